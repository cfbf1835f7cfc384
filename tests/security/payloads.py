"""Hostile strings a customer can type into a name or a note."""

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<div hx-get="/logout" hx-trigger="load">',
]
ESCAPED_MARKERS = ["&lt;script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
                   "&lt;div hx-get=&#34;/logout&#34;"]
# None of these may appear verbatim in HTML built from those strings.
LIVE_MARKERS = ["<script>alert(1)", "<img src=x", '<div hx-get="/logout"', 'hx-get="/logout"']
