"""Password hashing with Argon2id (argon2-cffi); verification never raises on a mismatch."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


MIN_LENGTH = 10
MAX_LENGTH = 256  # Argon2 takes any length; this bounds the work one request can ask for


def new_password_errors(password: str, confirmation: str, email: str) -> dict[str, str]:
    """Field errors for a password being chosen (invitation, reset); empty when it is fine."""
    if len(password) < MIN_LENGTH:
        return {"password": f"At least {MIN_LENGTH} characters."}
    if len(password) > MAX_LENGTH:
        return {"password": f"At most {MAX_LENGTH} characters."}
    if password.strip().lower() == email.strip().lower():
        return {"password": "Not your email address."}
    if password != confirmation:
        return {"password_confirmation": "The two passwords differ."}
    return {}
