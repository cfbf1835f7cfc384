"""The kitchen: live feed (channels, SSE), prioritisation, staff actions and screens."""
