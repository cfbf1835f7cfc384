"""Orders: intake, temporary orders, pricing and the order lifecycle."""
