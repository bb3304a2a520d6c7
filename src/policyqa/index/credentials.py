"""How a store server is logged in to: a value handed down from the entry points, never read here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreCredentials:
    """A Milvus server's login: a `token` ("user:password" or an API key), else `user` and `password`; empty for
    milvus-lite and the folder store. The repr shows which are set, never their values."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    def client_arguments(self) -> dict[str, str]:
        """What MilvusClient takes: the token when there is one, else user and password when both are set."""
        if self.token:
            return {"token": self.token}
        if self.user and self.password:
            return {"user": self.user, "password": self.password}
        return {}

    def __repr__(self) -> str:
        given = [name for name in ("token", "user", "password") if getattr(self, name)]
        return f"StoreCredentials({', '.join(f'{name}=***' for name in given)})"
