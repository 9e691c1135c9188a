"""Serializing a batch over the API."""

from api import bp, roles
from api.endpoint import endpoint
from api.schemas.serialization import SerializedOut, SerializeIn
from trace.auth.services import require_line
from trace.production import services as production
from trace.production.serialization import serialize


@endpoint(
    bp,
    "/batches/<int:batch_id>/items",
    "POST",
    summary="Serialize: create items with serials and codes, all or nothing",
    roles=roles.SERIALIZE,
    body=SerializeIn,
    response=SerializedOut,
    status=201,
    tag="production",
)
def serialize_batch(call, batch_id):
    batch = production.get_batch(call.session, batch_id)
    require_line(call.principal, batch.line_id, "batch_id")
    return serialize(call.session, call.actor, batch, **call.body)
