"""Staff and admin accounts, passwords and login sessions."""
