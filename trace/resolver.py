"""The service as its own GS1 Digital Link resolver, and what the public may see of an item.

Two ways lead to an item, and they prove different things:

* its code (``/s/{code}``) is unguessable, so finding it shows the label is genuine
  (public_item_view, verdict "genuine");
* a Digital Link (``/01/{gtin}/10/{lot}/21/{serial}``) names it by serial, and serials
  can be guessed from any other label. That view says "unverified" and never shows the
  code: showing it would let anyone who guesses a serial print a convincing label.

Resolution follows the GS1-Conformant Resolver standard (1.2): an invalid URI is 400,
a valid one for nothing we know 404; the default answer redirects to the default link;
``linkType`` picks a link (404 when there is none of that type, as GS1's reference
resolver does); ``linkType=linkset`` lists every link of the request and of each level
up to the GTIN, as an RFC 9264 linkset. Link types are terms of the GS1 Web Vocabulary.
The link targets are the JSON views below, served under INFO_PREFIX.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from trace import gs1
from trace.catalog.models import Product
from trace.errors import DomainError, Invalid, NotFound
from trace.production import services as production
from trace.production.models import Batch, BatchStatus, Item
from trace.scans.story import product_view

GS1_VOCABULARY = "https://gs1.org/voc/"
# Forms of the vocabulary's namespace that clients send in linkType, besides "gs1:".
_VOCABULARY_ALIASES = (
    "gs1:",
    GS1_VOCABULARY,
    "http://gs1.org/voc/",
    "https://ref.gs1.org/voc/",
    "http://ref.gs1.org/voc/",
)
LINKSET_MEDIA_TYPE = "application/linkset+json"
# "all" is what GS1 Digital Link 1.1 called it before the resolver standard chose "linkset".
LINKSET_LINK_TYPES = frozenset({"linkset", "all"})
# Where the link targets live: the same GS1 path under this prefix, so one parser serves both.
INFO_PREFIX = "/info"
VIEW_MEDIA_TYPE = "application/json"
RESOLVER_NAME = "Trace product traceability resolver"

UNVERIFIED_EXPLANATION = (
    "This page was reached by serial number, which anyone can read off another label. "
    "Only the item code printed on the label proves authenticity: enter it or scan "
    "the code label to check this unit."
)


@dataclass(frozen=True)
class Resolution:
    """What a Digital Link names: a product, one of its batches (lots) or one item."""

    link: gs1.DigitalLink
    product: Product
    batch: Batch | None = None
    item: Item | None = None


@dataclass(frozen=True)
class Link:
    """One link the resolver offers: a GS1 Web Vocabulary link type and its target."""

    link_type: str  # the vocabulary term, e.g. "pip"
    href: str
    title: str
    type: str = VIEW_MEDIA_TYPE

    @property
    def relation(self) -> str:
        return GS1_VOCABULARY + self.link_type

    def target(self) -> dict:
        return {"href": self.href, "title": self.title, "type": self.type}


@dataclass(frozen=True)
class Level:
    """The links of one level of a request: item, batch or product, most specific first."""

    link: gs1.DigitalLink
    description: str
    links: tuple[Link, ...]


# --- parsing and looking up ---------------------------------------------------------------


def parse_resolver_path(path: str, query: str = "") -> gs1.DigitalLink:
    """Parse the raw (still percent-encoded) path of a request to the resolver root.

    One trailing slash is tolerated, as the resolver standard asks. Unlike a Digital Link
    in general, the GS1 part must start at the root: this resolver has no path prefix.
    """
    if path.endswith("/"):
        path = path[:-1]
    link = gs1.parse_digital_link(path, query)
    qualifiers = sum(value is not None for value in (link.cpv, link.lot, link.serial))
    if path.count("/") != 2 + 2 * qualifiers:
        raise gs1.InvalidDigitalLink(
            "unexpected segments before the GS1 part: the path must start with /01/{gtin}"
        )
    return link


def find_item_by_scanned_code(session: Session, text: str) -> Item:
    """The item whose code was scanned or typed into a public URL.

    A malformed code is a bad request (400) here, not a validation failure: it is the
    address itself that is wrong. Unknown codes get a message that names no near miss.
    """
    try:
        return production.find_item_by_code(session, text)
    except Invalid as error:
        raise DomainError(error.message, error.fields) from None


def find_item_by_gtin_serial(
    session: Session, gtin14: str, serial: str, lot: str | None = None
) -> Item:
    """The item of the product with GTIN `gtin14` and this serial; with `lot`, in that lot.

    One indexed lookup (product.gtin is unique, (product_id, serial) a unique index) that
    loads product and batch with it. A lot that does not match is as unknown as a wrong
    serial, with the same message.
    """
    query = (
        select(Item)
        .join(Item.product)
        .join(Item.batch)
        .where(Product.gtin == gtin14, Item.serial == serial)
        .options(contains_eager(Item.product), contains_eager(Item.batch))
    )
    item = session.scalar(query)
    if item is None or (lot is not None and item.batch.lot_number != lot):
        where = "this product" if lot is None else "this product and lot"
        raise NotFound(f"no item of {where} has this serial", {"serial": ["unknown serial"]})
    return item


def _find_product_by_gtin(session: Session, gtin14: str) -> Product:
    product = session.scalar(select(Product).where(Product.gtin == gtin14))
    if product is None:
        raise NotFound("no product has this GTIN", {"gtin": ["unknown GTIN"]})
    return product


def _find_batch_by_lot(session: Session, product: Product, lot: str) -> Batch:
    query = select(Batch).where(Batch.product_id == product.id, Batch.lot_number == lot)
    batch = session.scalar(query)
    if batch is None:
        raise NotFound("this product has no such lot", {"lot": ["unknown lot"]})
    return batch


def resolve_digital_link(session: Session, link: gs1.DigitalLink) -> Resolution:
    """The product, batch or item a parsed Digital Link names; NotFound when we know none.

    Consumer product variants (AI 22) are not modelled, so a link with one names nothing.
    """
    if link.cpv is not None:
        raise NotFound(
            "this resolver knows no consumer product variants (AI 22)",
            {"cpv": ["not supported"]},
        )
    if link.serial is not None:
        item = find_item_by_gtin_serial(session, link.gtin, link.serial, link.lot)
        return Resolution(link, item.product, item.batch, item)
    product = _find_product_by_gtin(session, link.gtin)
    if link.lot is not None:
        return Resolution(link, product, _find_batch_by_lot(session, product, link.lot))
    return Resolution(link, product)


# --- public views -------------------------------------------------------------------------


def _batch_view(batch: Batch) -> dict:
    return {
        "lot_number": batch.lot_number,
        "status": batch.status.value,
        "recalled": batch.status is BatchStatus.recalled,
    }


def _item_facts(item: Item) -> dict:
    return {
        "serial": item.serial,
        "product": product_view(item.product),
        "batch": _batch_view(item.batch),
        "produced_at": item.produced_at.isoformat(),
        "status": item.status.value,
    }


def public_item_view(item: Item) -> dict:
    """What anyone holding the item's code may see: verdict "genuine" and public facts.

    Only public fields: no internal ids, inspector names, keys or contact data.
    """
    return {"verdict": "genuine", "code": item.code, **_item_facts(item)}


def unverified_item_view(item: Item) -> dict:
    """The item as reached by GTIN and serial: the same facts, but no code and no verdict
    of authenticity, since a serial proves nothing."""
    return {"verdict": "unverified", "explanation": UNVERIFIED_EXPLANATION, **_item_facts(item)}


def resolution_view(resolution: Resolution) -> dict:
    """The public view of whatever a Digital Link names: item, batch or product."""
    if resolution.item is not None:
        return unverified_item_view(resolution.item)
    view = {"product": product_view(resolution.product)}
    if resolution.batch is not None:
        view["batch"] = _batch_view(resolution.batch)
    return view


# --- links and linksets -------------------------------------------------------------------


_ITEM_LINKS = {
    "defaultLink": "Item information (by serial: not a proof of authenticity)",
    "pip": "Item information (by serial: not a proof of authenticity)",
    "traceability": "When, where and in which lot this item was made",
}
_LOT_LINKS = {
    "defaultLink": "Lot information",
    "pip": "Lot information",
    "recallStatus": "Whether this lot is recalled",
}
_PRODUCT_LINKS = {"defaultLink": "Product information", "pip": "Product information"}


def _level(base_url: str, link: gs1.DigitalLink, description: str, titles: dict) -> Level:
    href = base_url.rstrip("/") + INFO_PREFIX + link.path
    links = tuple(Link(link_type, href, title) for link_type, title in titles.items())
    return Level(link, description, links)


def resolution_levels(resolution: Resolution, base_url: str) -> list[Level]:
    """The request's own level, then each level up to the GTIN, each with its links."""
    link, name = resolution.link, resolution.product.name
    levels = []
    if link.serial is not None:
        levels.append(_level(base_url, link, f"{name}, serial {link.serial}", _ITEM_LINKS))
    if link.lot is not None:
        lot_link = gs1.DigitalLink(gtin=link.gtin, lot=link.lot)
        levels.append(_level(base_url, lot_link, f"{name}, lot {link.lot}", _LOT_LINKS))
    levels.append(_level(base_url, gs1.DigitalLink(gtin=link.gtin), name, _PRODUCT_LINKS))
    return levels


def canonical_uri(base_url: str, link: gs1.DigitalLink) -> str:
    """The canonical Digital Link URI of `link` under `base_url` (GTIN-14, qualifiers encoded)."""
    return gs1.build_digital_link(base_url, link.gtin, link.lot, link.serial, cpv=link.cpv)


def linkset(resolution: Resolution, base_url: str) -> dict:
    """The RFC 9264 linkset (JSON form) of a resolution, one context object per level."""
    contexts = []
    for level in resolution_levels(resolution, base_url):
        context = {"anchor": canonical_uri(base_url, level.link), "description": level.description}
        for link in level.links:
            context.setdefault(link.relation, []).append(link.target())
        contexts.append(context)
    return {"linkset": contexts}


def is_linkset_request(link_type: str | None) -> bool:
    """Whether a linkType value asks for the linkset rather than one link."""
    return link_type in LINKSET_LINK_TYPES


def link_type_term(link_type: str) -> str:
    """The GS1 Web Vocabulary term of a linkType value (gs1:pip, its full URI, or pip)."""
    for prefix in _VOCABULARY_ALIASES:
        if link_type.startswith(prefix):
            return link_type[len(prefix) :]
    return link_type


def choose_link(resolution: Resolution, base_url: str, link_type: str | None) -> Link:
    """The link to redirect to: the default link, or the first of `link_type` from the
    request's level upwards (so an item's lot answers gs1:recallStatus)."""
    term = "defaultLink" if link_type is None else link_type_term(link_type)
    levels = resolution_levels(resolution, base_url)
    for level in levels:
        for link in level.links:
            if link.link_type == term:
                return link
    offered = sorted({"gs1:" + link.link_type for level in levels for link in level.links})
    raise NotFound(
        f"no link of type {link_type!r} for this Digital Link",
        {"linkType": [f"offered: {', '.join(offered)}, linkset"]},
    )


def passed_on_query(raw_query: str) -> str:
    """The request's query string without linkType: the standard has resolvers pass the
    other key=value pairs on when they redirect."""
    kept = [
        pair
        for pair in raw_query.split("&")
        if pair and unquote(pair.partition("=")[0]) != "linkType"
    ]
    return "&".join(kept)


def resolver_description(base_url: str) -> dict:
    """The resolver description file served at /.well-known/gs1resolver."""
    return {
        "name": RESOLVER_NAME,
        "resolverRoot": base_url.rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": GS1_VOCABULARY, "prefix": "gs1:"}],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedContextValuesEnumerated": [],
    }
