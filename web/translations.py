"""What the public pages say, in English and Chinese, side by side.

One entry per message: its key, then the English and the Chinese text. Keeping both
languages on one line makes a missing or stale translation easy to see in review, and a
test checks that every key the templates use is here in both. Placeholders are
`str.format` fields; the page escapes the finished text, so messages hold no HTML.

The trade's words are those of DESIGN.md §9 (正品, 未知追溯码, 疑似异常, 召回, 追溯码,
序列号, 批号, 产线, 质检员, 检验, 合格/不合格/返工, 工艺参数, 规格上下限, 发货, 承运商,
已签收, 维修, 更换配件, 保修, 投诉), in both languages.
"""

from __future__ import annotations

EN, ZH = "en", "zh-CN"
LANGUAGES = (ZH, EN)

_CATALOGUE: dict[str, tuple[str, str]] = {
    # layout
    "site.name": ("Trace · one item, one code", "Trace · 一物一码"),
    "site.language": ("Language", "语言"),
    "footer.timezone": ("Times are shown in {zone}.", "时间均为 {zone}。"),
    "footer.privacy": (
        "Scans of item codes are counted to detect copied labels; we keep no address or"
        " personal data.",
        "每次查询追溯码都会被计数以识别被复制的标签；我们不保存您的网络地址或个人信息。",
    ),
    # verdicts
    "verdict.genuine": ("Genuine", "正品"),
    "verdict.genuine.text": (
        "This item code is registered to the product below: an original unit from the maker.",
        "该追溯码已登记，对应下方产品，为原厂正品。",
    ),
    "verdict.suspicious": ("Suspicious", "疑似异常"),
    "verdict.suspicious.text": (
        "This item code is real, but it has been scanned unusually often: "
        "the label may have been copied onto other units.",
        "该追溯码真实存在，但查询情况异常，标签可能已被复制到其他产品上。",
    ),
    "verdict.suspicious.advice": (
        "If you did not buy this from an authorised seller, do not use it and report it below.",
        "如非从授权渠道购买，请勿使用，并在下方提交投诉。",
    ),
    "suspicion.many_scans": (
        "Scanned far more often than one buyer usually does.",
        "查询次数远超一般购买者。",
    ),
    "suspicion.many_clients": (
        "Scanned from many different devices or networks.",
        "被多台不同设备或网络查询。",
    ),
    "verdict.suspicious.scrapped": (
        "This item code is real, but its unit was scrapped: it should be in nobody's hands.",
        "该追溯码真实存在，但对应产品已报废，不应在市面流通或被使用。",
    ),
    "suspicion.scrapped": (
        "This unit was recorded as scrapped.",
        "该产品已登记报废。",
    ),
    "suspicion.scrapped_on": (
        "This unit was recorded as scrapped on {date}.",
        "该产品已于 {date} 登记报废。",
    ),
    "verdict.recalled": ("Recall", "召回"),
    "recall.lead": (
        "Lot {lot} of this product has been recalled.",
        "本产品批次（批号 {lot}）已召回。",
    ),
    "recall.reason": ("Reason: {reason}", "原因：{reason}"),
    "recall.todo": ("What to do", "您需要做什么"),
    "recall.step1": ("Stop using this product now.", "请立即停止使用本产品。"),
    "recall.step2": (
        "Keep the product and its packaging; do not throw it away.",
        "请保留产品及包装，切勿丢弃。",
    ),
    "recall.step3": (
        "Register it below with your contact details: we will contact you to arrange a free "
        "repair, replacement or refund.",
        "请在下方登记并留下联系方式，我们将联系您安排免费维修、更换或退款。",
    ),
    "recall.step3_by_code": (
        "Scan the item code label on the product, or enter its code below, to register it "
        "for the recall.",
        "请扫描产品上的追溯码标签，或在下方输入追溯码，登记召回。",
    ),
    "recall.button": ("Register this product", "登记召回产品"),
    "recall.genuine_note": (
        "This unit is genuine; the recall concerns its whole lot.",
        "本产品为正品；召回针对其整个批次。",
    ),
    "verdict.unknown": ("Unknown code", "未知追溯码"),
    "verdict.unknown.text": (
        "We have no product with this item code.",
        "未查询到该追溯码对应的产品。",
    ),
    "verdict.unknown.advice": (
        "Check the code printed on the label and try again. If it is still not found, the "
        "product may not be genuine: ask the seller before you use it.",
        "请核对标签上印刷的追溯码后重试。如仍查询不到，该产品可能不是正品，使用前请向卖家核实。",
    ),
    "verdict.unverified": ("Not verified", "未验证"),
    "verdict.unverified.text": (
        "You reached this page by serial number, which anyone can read off another label. "
        "Only the item code on the label proves that a unit is genuine: scan the item code "
        "label or enter the code below.",
        "您是通过序列号访问本页面的，序列号可从其他标签上读取，无法证明真伪。"
        "只有标签上的追溯码才能验证产品是否为正品：请扫描追溯码标签，或在下方输入追溯码。",
    ),
    # checking a code by hand
    "check.heading": ("Check a product", "查询产品"),
    "check.label": ("Item code", "追溯码"),
    "check.button": ("Check", "查询"),
    # scans
    "scans.first": ("First scanned", "首次查询"),
    "scans.count.one": ("Scanned once", "共查询 1 次"),
    "scans.count.other": ("Scanned {count} times", "共查询 {count} 次"),
    # the item
    "fact.code": ("Item code", "追溯码"),
    "fact.model": ("Model", "型号"),
    "fact.serial": ("Serial", "序列号"),
    "fact.lot": ("Lot number", "批号"),
    "fact.produced": ("Production date", "生产日期"),
    "fact.line": ("Line", "产线"),
    "product.heading": ("Product", "产品"),
    "lot.heading": ("Lot", "批次"),
    # inspection
    "inspection.heading": ("Inspection", "检验"),
    "inspection.final": ("Final inspection", "最终检验"),
    "inspection.latest": ("Latest inspection", "最近一次检验"),
    "inspection.batch": (
        "Inspected as a sample of its lot.",
        "按批次抽样检验。",
    ),
    "inspection.inspector": ("Inspector", "质检员"),
    "inspection.when": ("Inspected", "检验时间"),
    "inspection.none": (
        "No inspection has been published for this unit yet.",
        "暂无公开的检验记录。",
    ),
    "result.pass": ("Pass", "合格"),
    "result.fail": ("Fail", "不合格"),
    "result.rework": ("Rework", "返工"),
    "spec.limits": ("Specification limits: {limits}", "规格上下限：{limits}"),
    "spec.in": ("Within limits", "符合规格"),
    "spec.out": ("Outside limits", "超出规格"),
    # process parameters
    "process.heading": ("Process parameters", "工艺参数"),
    "process.readings": (
        "{count} readings, {out} outside limits",
        "共 {count} 次记录，{out} 次超出规格",
    ),
    # shipments
    "shipping.heading": ("Shipments", "发货"),
    "shipping.none": ("No shipment recorded yet.", "暂无发货记录。"),
    "shipment.shipped": ("Shipped", "已发货"),
    "shipment.in_transit": ("In transit", "运输中"),
    "shipment.delivered": ("Delivered", "已签收"),
    "shipment.returned": ("Returned", "已退回"),
    "shipment.origin": (
        "From {origin} · carrier: {carrier}",
        "发货地：{origin} · 承运商：{carrier}",
    ),
    "shipment.last_location": ("Last location: {location}", "最新位置：{location}"),
    "shipment.expected": ("Expected: {date}", "预计送达：{date}"),
    # repairs
    "repairs.heading": ("Repairs", "维修"),
    "repairs.none": ("No repairs recorded.", "无维修记录。"),
    "repair.received": ("Received for repair", "送修"),
    "repair.completed": ("Completed", "完成"),
    "repair.action": ("Work done", "维修内容"),
    "repair.parts": ("Parts replaced", "更换配件"),
    "repair.removed": ("Removed: {parts}", "拆下：{parts}"),
    "repair.installed": ("Installed: {parts}", "换上：{parts}"),
    "repair.under_warranty": ("Under warranty", "保修期内"),
    "outcome.repaired": ("Repaired", "已修复"),
    "outcome.replaced": ("Unit replaced", "已换新"),
    "outcome.no_fault_found": ("No fault found", "未发现故障"),
    "outcome.not_repairable": ("Not repairable", "无法修复"),
    "outcome.pending": ("In progress", "处理中"),
    # warranty
    "warranty.heading": ("Warranty", "保修"),
    "warranty.active": ("Under warranty until {date}", "保修期至 {date}"),
    "warranty.expired": ("Warranty ended on {date}", "保修已于 {date} 到期"),
    "warranty.from_delivery": (
        "{months} months from delivery on {date}",
        "自 {date} 签收起 {months} 个月",
    ),
    "warranty.from_production": (
        "{months} months from the production date, {date} (no delivery recorded)",
        "自生产日期 {date} 起 {months} 个月（无签收记录）",
    ),
    "warranty.none": ("This product has no warranty.", "本产品无保修。"),
    "warranty.scrapped": (
        "This unit was scrapped: no warranty applies to it.",
        "该产品已报废，不再享有保修。",
    ),
    # reporting a problem
    "report.heading": ("Report a problem", "提交投诉"),
    "report.counterfeit.heading": ("Report a suspected counterfeit", "举报疑似假冒产品"),
    "report.counterfeit.intro": (
        "If this code came on a product, tell us where and when you bought it. Our quality "
        "team follows up every report, and a private link lets you follow its progress.",
        "如果此码印在您购买的产品上，请告诉我们购买的地点和时间。质量团队会跟进每一条举报，"
        "您可通过专属链接查看处理进度。",
    ),
    "report.intro": (
        "Tell us what is wrong. Our quality team reads every complaint, and a private link "
        "lets you follow its progress.",
        "请告诉我们遇到的问题。质量团队会处理每一条投诉，您可通过专属链接查看处理进度。",
    ),
    "report.about": ("{product}, serial {serial}", "{product}，序列号 {serial}"),
    "report.category": ("What is the problem?", "问题类型"),
    "report.choose": ("Choose…", "请选择…"),
    "category.defect": ("It does not work properly", "产品故障"),
    "category.damaged": ("It arrived damaged", "运输损坏"),
    "category.safety": (
        "Safety concern (heat, smoke, electric shock)",
        "安全隐患（过热、冒烟、触电）",
    ),
    "category.missing_parts": ("Parts or accessories missing", "配件缺失"),
    "category.counterfeit": ("I think it is counterfeit", "疑似假冒"),
    "category.recall": ("Register for the recall", "登记召回"),
    "category.other": ("Something else", "其他问题"),
    "report.description": ("Description", "问题描述"),
    "report.description.hint": ("What happened, and when?", "发生了什么？何时发生？"),
    "report.photo": ("Photo (optional)", "照片（可选）"),
    "report.photo.hint": (
        "JPEG, PNG or WebP, up to {mb} MB.",
        "支持 JPEG、PNG 或 WebP 格式，最大 {mb} MB。",
    ),
    "report.contact": ("Contact details (optional)", "联系方式（可选）"),
    "report.contact.hint": (
        "Only our quality team sees them, to reach you. They never appear on a public page.",
        "仅供质量团队联系您使用，绝不会在任何公开页面显示。",
    ),
    "report.name": ("Name", "姓名"),
    "report.email": ("Email", "电子邮箱"),
    "report.phone": ("Phone", "电话"),
    "report.submit": ("Send complaint", "提交投诉"),
    "report.errors": ("Please correct the fields marked below.", "请修改下方标出的内容。"),
    "invalid.category": ("Choose what the problem is.", "请选择问题类型。"),
    "invalid.description": (
        "Describe the problem in {min} to {max} characters.",
        "请用 {min} 至 {max} 个字描述问题。",
    ),
    "invalid.photo": (
        "The photo must be a JPEG, PNG or WebP image of at most {mb} MB.",
        "照片须为 JPEG、PNG 或 WebP 格式，且不超过 {mb} MB。",
    ),
    "invalid.contact_name": ("At most 200 characters.", "最多 200 个字。"),
    "invalid.contact_email": ("This is not an email address.", "电子邮箱格式不正确。"),
    "invalid.contact_phone": ("This is not a phone number.", "电话号码格式不正确。"),
    # following a complaint
    "complaint.title": ("Complaint {reference}", "投诉 {reference}"),
    "complaint.thanks": (
        "Thank you. We have received your complaint.",
        "感谢您的反馈，我们已收到您的投诉。",
    ),
    "complaint.keep_link": (
        "Keep this private link to follow its progress. Whoever has it sees the status and "
        "our replies, never your contact details.",
        "请保存此专属链接以查看处理进度。持有链接者可看到处理状态和我们的回复，但看不到您的联系方式。",
    ),
    "complaint.reference": ("Reference", "投诉编号"),
    "complaint.status": ("Status", "状态"),
    "complaint.category": ("Problem", "问题类型"),
    "complaint.product": ("Product", "产品"),
    "complaint.scanned_code": ("Code you scanned", "您查询的追溯码"),
    "complaint.submitted": ("Submitted", "提交时间"),
    "complaint.first_response": ("First response", "首次回复"),
    "complaint.photo": ("Photo attached", "已附照片"),
    "complaint.updates": ("Progress", "处理进展"),
    "complaint.received_event": ("We received your complaint.", "我们已收到您的投诉。"),
    "complaint.team": ("Customer care", "客服团队"),
    "complaint.status_change": ("Status: {status}", "状态：{status}"),
    "status.received": ("Received", "已收到"),
    "status.acknowledged": ("Acknowledged", "已确认"),
    "status.investigating": ("Investigating", "调查中"),
    "status.resolved": ("Resolved", "已解决"),
    "status.closed": ("Closed", "已关闭"),
    "status.rejected": ("Not accepted", "未受理"),
    "next.received": (
        "Next: our quality team reviews your complaint and replies on this page.",
        "下一步：质量团队将审核您的投诉，并在本页回复。",
    ),
    "next.acknowledged": (
        "We are working on it. New updates appear on this page.",
        "我们正在处理，新的进展将显示在本页。",
    ),
    "next.investigating": (
        "We are investigating. New updates appear on this page.",
        "我们正在调查，新的进展将显示在本页。",
    ),
    "next.resolved": (
        "We consider this resolved. If it is not, send a new complaint from the product page.",
        "我们认为问题已解决。如仍未解决，请通过产品页面再次提交投诉。",
    ),
    "next.closed": ("This complaint is closed.", "该投诉已关闭。"),
    "next.rejected": (
        "We could not accept this complaint; our reply above says why.",
        "我们无法受理该投诉，原因见上方回复。",
    ),
    # errors
    "error.not_found": ("Not found", "未找到"),
    "error.tracking": (
        "No complaint has this link. Check that you copied the whole link.",
        "该链接没有对应的投诉，请检查链接是否完整。",
    ),
    "error.rate_limited": ("Too many requests", "请求过于频繁"),
    "error.rate_limited.text": (
        "You have sent many requests in a short time. Please wait a minute and try again.",
        "您在短时间内请求次数过多，请稍候一分钟再试。",
    ),
    "error.csrf": ("This form has expired", "表单已过期"),
    "error.csrf.text": (
        "Go back to the product page, reload it and send the form again.",
        "请返回产品页面，刷新后重新提交。",
    ),
    "error.too_large": ("The photo is too large", "照片过大"),
    "error.too_large.text": (
        "Choose a photo of at most {mb} MB and send the form again.",
        "请选择不超过 {mb} MB 的照片后重新提交。",
    ),
    "error.back": ("Back to the product page", "返回产品页面"),
    "error.home": ("Start page", "首页"),
}

MESSAGES: dict[str, dict[str, str]] = {
    key: {EN: english, ZH: chinese} for key, (english, chinese) in _CATALOGUE.items()
}
