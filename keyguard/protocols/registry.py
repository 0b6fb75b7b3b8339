"""The profile registry: the shipped firmware profiles plus the user's, looked up by name."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from keyguard.errors import InputError, ProfileError
from keyguard.protocols.profile import Profile, builtin_profiles, load_profile_dir, \
    load_profile_file

_BUILTIN: list[Profile] | None = None


class UnknownProtocolError(InputError):
    """A protocol name that no loaded profile has."""


class Registry:
    """Profiles by name, in load order (shipped ones first, then user directories)."""

    def __init__(self, profiles: Iterable[Profile] = ()):
        self._by_name: dict[str, Profile] = {}
        for p in profiles:
            self.add(p)

    def add(self, profile: Profile, *, override: bool = False) -> None:
        """Add a profile. A second profile with a taken name is an error unless ``override``
        (a user profile may replace a shipped one of the same name, on purpose)."""
        old = self._by_name.get(profile.name)
        if old is not None and not override:
            raise ProfileError(f"key 'name': profile {profile.name!r} is already defined in "
                               f"{old.source}", profile.source, "give the profile another name")
        self._by_name[profile.name] = profile

    def get(self, name: str) -> Profile:
        """The profile called ``name``; UnknownProtocolError lists the known names."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownProtocolError(
                f"no profile named {name!r}", None,
                f"known: {', '.join(self.names())}; `keyguard profile list` shows them") from None

    def select(self, names: Iterable[str]) -> "Registry":
        """A registry holding only the named profiles (each must exist)."""
        return Registry(self.get(n) for n in names)

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def shipped_profiles() -> list[Profile]:
    """The package's profiles, loaded and validated once per process."""
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = builtin_profiles()
    return list(_BUILTIN)


def load_registry(user_paths: Iterable[str | Path] = (), *, builtin: bool = True) -> Registry:
    """Shipped profiles, then those in each user path (a ``.toml`` file or a directory).

    A user profile with a shipped profile's name replaces it; two user profiles with one name
    are an error.
    """
    reg = Registry(shipped_profiles() if builtin else ())
    shipped = set(reg.names())
    for path in user_paths:
        p = Path(path)
        profiles = load_profile_dir(p) if p.is_dir() else load_profile_file(p)
        for prof in profiles:
            reg.add(prof, override=prof.name in shipped)
            shipped.discard(prof.name)
    return reg
