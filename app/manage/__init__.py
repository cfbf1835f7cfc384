"""A restaurant's own management area, `/manage/{slug}…`, for its owners and managers (and
the platform admin): staff and invitations, settings; the menu editor comes next."""
