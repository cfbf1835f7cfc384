"""Piccolo table for staff and admin users."""

from piccolo.columns import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class StaffUser(Table):
    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True)
    password_hash = Varchar(length=255)
    role = Varchar(length=16, default="staff")  # "staff" (one restaurant) or "admin"
    restaurant = ForeignKey(references=Restaurant, null=True)
    created_at = Timestamptz()
