"""`/manage/{slug}/menu…`: the menu editor for managers and owners (and the admin): the menu by
category, and each item's form with allergens, modifier groups and an optional photo. Forms
over the same service as the admin's pages (app/restaurants/editing.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException, NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts.forms import form_of
from app.accounts.guards import require_manager_for_slug, staff_of
from app.infra.form_input import RowId
from app.manage.views import page_context, restaurant_or_404
from app.restaurants import categories, editing, photos, services
from app.restaurants.allergens import ALLERGENS
from app.restaurants.modifiers import MAX_GROUPS
from app.restaurants.tables import Restaurant
from app.templating import format_money

# The form's body is read up to twice the photo's limit (and the text fields): a photo over
# the limit but under this comes back as the `photo` field's error with the other fields as
# typed. Past it the body is not read (`_too_large`).
MAX_FORM_BYTES = 2 * photos.MAX_BYTES + 256 * 1024
TOO_LARGE = f"The photo is larger than {photos.MAX_BYTES // (1024 * 1024)} MB."


async def _form_and_photo(request: Request[Any, Any, Any]
                          ) -> tuple[dict[str, str], photos.Photo | None, str]:
    """The posted fields, the uploaded photo re-encoded (or None) and why it was refused."""
    form = await request.form()
    fields = {str(key): str(value) for key, value in form.items() if isinstance(value, str)}
    upload = form.get("photo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return fields, None, ""
    data = await upload.read(photos.MAX_BYTES + 1)
    try:
        return fields, photos.process(data), ""
    except photos.PhotoInvalid as error:
        return fields, None, str(error)


async def _too_large_page(request: Request[Any, Any, Any]) -> Template:
    slug = str(request.path_params.get("slug", ""))
    require_manager_for_slug(request, request.route_handler)  # the guard has not run yet
    restaurant = await restaurant_or_404(slug)
    item_id = request.path_params.get("item_id")
    values: dict[str, Any] = {"available": True, "position": 0, "allergens": []}
    if item_id is not None:
        values = await editing.item_form_values(
            await editing.get_item(restaurant, int(item_id)), restaurant.currency)
    return await _item_form(request, restaurant, item_id, values, {
        "photo": f"{TOO_LARGE} Nothing of the form could be read: choose a smaller photo "
                 "and send it again."}, 413)


def _too_large(request: Request[Any, Any, Any], error: RequestEntityTooLarge) -> Response[Any]:
    """A body past MAX_FORM_BYTES is refused unread (the CSRF check reads the form before
    the route): the dish's form comes back with the photo's error and its saved values (a
    new dish's blanks), never a bare 413. Exception handlers are sync; the page reads the
    database, so it is rendered when the response is sent."""
    return _TooLargePage(request, error)


class _TooLargePage(Response[Any]):
    def __init__(self, request: Request[Any, Any, Any], error: RequestEntityTooLarge) -> None:
        super().__init__(content=b"", status_code=413)
        self._request, self._error = request, error

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        request, error = self._request, self._error

        async def send_page(scope: Any, receive: Any, send: Any) -> None:
            try:
                page: Response[Any] = await _too_large_page(request)
            except (HTTPException, NotFoundException, editing.NotFound):
                page = Response(error.detail, status_code=413, media_type="text/plain")
            await page.to_asgi_response(*args, **kwargs)(scope, receive, send)

        return send_page


class ManageMenuController(Controller):
    path = "/manage/{slug:str}/menu"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @get("/")
    async def menu(self, request: Request[Any, Any, Any], slug: FromPath[str],
                   saved: FromQuery[str] = "") -> Template:
        restaurant = await restaurant_or_404(slug)
        return await menu_page(request, restaurant, saved=saved)

    @get("/items/new")
    async def new_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                       category: FromQuery[str] = "") -> Template:
        restaurant = await restaurant_or_404(slug)
        return await _item_form(request, restaurant, None, {
            "available": True, "category": category[:80], "position": 0, "allergens": []})

    @post("/items", status_code=200, request_max_body_size=MAX_FORM_BYTES,
          exception_handlers={RequestEntityTooLarge: _too_large})
    async def create_item(self, request: Request[Any, Any, Any],
                          slug: FromPath[str]) -> Template | Redirect:
        return await _save(request, slug, None)

    @get("/items/{item_id:int}")
    async def edit_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                        item_id: RowId) -> Template:
        restaurant = await restaurant_or_404(slug)
        try:
            item = await editing.get_item(restaurant, item_id)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return await _item_form(request, restaurant, item_id,
                                await editing.item_form_values(item, restaurant.currency))

    @post("/items/{item_id:int}", status_code=200, request_max_body_size=MAX_FORM_BYTES,
          exception_handlers={RequestEntityTooLarge: _too_large})
    async def update_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          item_id: RowId) -> Template | Redirect:
        return await _save(request, slug, item_id)

    @post("/items/{item_id:int}/move", status_code=303)
    async def move_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                        item_id: RowId) -> Redirect:
        """↑/↓ beside a dish in the editor: `direction` up or down within its category."""
        await restaurant_or_404(slug)
        direction = (await form_of(request)).get("direction", "")
        if direction not in ("up", "down"):
            raise HTTPException(status_code=400, detail="direction must be up or down")
        try:
            await editing.move_menu_item(request.app.state.redis, slug, item_id, direction,
                                         by=staff_of(request).email)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return Redirect(f"/manage/{slug}/menu#item-{item_id}", status_code=303)

    @post("/items/{item_id:int}/delete", status_code=303)
    async def delete_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          item_id: RowId) -> Redirect:
        await restaurant_or_404(slug)
        try:
            await editing.delete_menu_item(request.app.state.redis, slug, item_id,
                                          by=staff_of(request).email)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return Redirect(f"/manage/{slug}/menu?saved=deleted", status_code=303)


async def _save(request: Request[Any, Any, Any], slug: str,
                item_id: int | None) -> Template | Redirect:
    restaurant = await restaurant_or_404(slug)
    fields, photo, problem = await _form_and_photo(request)
    try:
        item = await editing.save_menu_item(
            request.app.state.redis, slug, fields, by=staff_of(request).email,
            item_id=item_id, photo=photo, photo_error=problem,
            remove_photo=bool(fields.get("remove_photo")))
    except editing.NotFound as missing:
        raise NotFoundException(str(missing)) from missing
    except editing.FormInvalid as invalid:
        values = invalid.values
        values["allergens"] = values.get("allergens", [])
        if item_id is not None:
            values["photo_id"] = (await editing.get_item(restaurant, item_id)).photo_id
        return await _item_form(request, restaurant, item_id, values, invalid.errors,
                                409 if isinstance(invalid, editing.EditConflict) else 422)
    return Redirect(f"/manage/{slug}/menu?saved=item#item-{item.id}", status_code=303)


async def _item_form(request: Request[Any, Any, Any], restaurant: Restaurant,
                     item_id: int | None, values: dict[str, Any],
                     errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    return Template("manage/menu_item.html", status_code=status_code, context=page_context(
        request, restaurant, "menu", item_id=item_id, values=values, errors=errors or {},
        allergens=ALLERGENS, group_slots=range(MAX_GROUPS),
        photo_max_mb=photos.MAX_BYTES // (1024 * 1024), photo_max_bytes=photos.MAX_BYTES,
        price_hint=editing.alone_hint(values.get("price"), restaurant.currency),
        categories=await categories.list_categories(restaurant)))


async def menu_page(request: Request[Any, Any, Any], restaurant: Restaurant, *,
                     saved: str = "", errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None, status_code: int = 200) -> Template:
    rows = await categories.list_categories(restaurant)
    items = await services.menu_items(restaurant.id, with_hidden=True)
    groups = await services.modifier_groups(restaurant.id)
    return Template("manage/menu.html", status_code=status_code, context=page_context(
        request, restaurant, "menu", categories=rows, saved=saved, errors=errors or {},
        values=values or {}, groups=groups,
        items_of={row.name: [item for item in items if item.category == row.name]
                  for row in rows},
        price_of=lambda amount: format_money(amount, restaurant.currency),  # "€13.90"
        alone_hint=lambda amount: editing.alone_hint(amount, restaurant.currency)))
