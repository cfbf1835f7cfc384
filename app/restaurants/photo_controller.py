"""`GET /menu-photos/{id}`: a menu item's photo as re-encoded at upload (WebP, no metadata).
A new upload is a new id, so an answer never changes: cached for a year."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException

from app.infra.form_input import RowId
from app.restaurants import services


class MenuPhotoController(Controller):
    include_in_schema = False

    @get("/menu-photos/{photo_id:int}")
    async def photo(self, photo_id: RowId) -> Response[bytes]:
        found = await services.photo(photo_id)
        if found is None:
            raise NotFoundException("no such photo")
        content, content_type = found
        return Response(content, media_type=content_type, headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline"})
