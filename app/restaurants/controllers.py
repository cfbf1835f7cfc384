"""Customer-facing restaurant pages (`/`, `/r/{slug}`) and the menu JSON API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from app.accounts.session import current_staff
from app.infra import i18n
from app.infra.errors import error_responses
from app.orders.choices import choosable, of_views
from app.orders.pricing import TIP_PERCENTS, format_rate
from app.orders.slot_cap import offered
from app.restaurants import fulfillment, services
from app.restaurants.allergens import known
from app.restaurants.opening import booking_days, closures_of, order_window, schedule_of
from app.restaurants.schemas import (
    MenuItemOut,
    MenuOut,
    ModifierGroupOut,
    ModifierOptionOut,
    Money,
    RestaurantOut,
)

MENU_SLOTS = 8  # the first slots the menu API lists (any valid slot is taken)


class RestaurantPagesController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        restaurants = await services.list_restaurants()
        i18n.settle()  # no restaurant yet: the diner's switch or browser, else English
        staff = current_staff(request)  # a cook who opened the site finds their screen
        return Template("home.html", context={"restaurants": restaurants,
                                              "staff_link": staff.home_link if staff else None})


class MenuApiController(Controller):
    path = "/api/restaurants"
    tags = ["menu"]

    @get("/{slug:str}/menu", responses=error_responses(404))
    async def menu(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> MenuOut:
        """The menu of one restaurant; amounts are in minor units of its currency."""
        restaurant = await services.get_restaurant(slug)
        if restaurant is None:
            raise NotFoundException(f"no restaurant called {slug!r}")
        # Category by category in the restaurant's order, as the menu page lists them: by
        # position alone the categories interleaved once dishes were moved (an outside try).
        items = [item for section in services.by_category(
            await services.menu_items(restaurant.id),
            await services.category_order(restaurant.id)) for item in section.items]
        window = order_window(restaurant, schedule_of(restaurant,
                                                      await closures_of(restaurant.id)))
        # full slots are not offered (app/orders/slot_cap.py counts as intake does)
        next_slots = await offered(request.app.state.redis, restaurant.id,
                                   restaurant.slot_capacity, window.slots, limit=MENU_SLOTS)
        groups = await services.modifier_groups(restaurant.id)
        currency = restaurant.currency
        return MenuOut(
            restaurant=RestaurantOut(
                slug=restaurant.slug, name=restaurant.name, currency=restaurant.currency,
                accepting_orders=restaurant.accepting_orders,
                default_prep_minutes=restaurant.default_prep_minutes,
                prices_include_tax=restaurant.tax_mode == "included",
                tips=list(TIP_PERCENTS) if restaurant.tips_enabled else [],
                open_now=window.asap, notice=window.notice,
                schedule_days=booking_days(restaurant),  # capped by manual capture
                next_slots=[slot.isoformat() for slot in next_slots],
                fulfillment_modes=fulfillment.offered(restaurant.fulfillment_modes)),
            items=[MenuItemOut(
                id=item.id, name=item.name, category=item.category,
                description=item.description,
                price=Money(amount=item.price_amount, currency=restaurant.currency),
                # a dish whose required options are all sold out cannot be ordered either
                available=item.available and choosable(*of_views(groups.get(item.id, []))),
                tax_rate=format_rate(services.tax_rate_of(item, restaurant)),
                allergens=known(item.allergens or []),
                groups=[ModifierGroupOut(
                    id=group.id, name=group.name, required=group.required,
                    min_choices=group.min_choices, max_choices=group.max_choices,
                    options=[ModifierOptionOut(
                        id=option.id, name=option.name,
                        price_delta=Money(amount=option.price_delta, currency=currency),
                        available=option.available, allergens=known(option.allergens))
                        for option in group.options])
                    for group in groups.get(item.id, [])],
                photo_url=services.photo_url(item))
            for item in items],
        )
