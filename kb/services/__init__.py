"""Services: the only code that changes the database. Views call them; they commit."""
