"""Every environment variable the service's settings read, and the field behind each."""

from dataclasses import dataclass

from pydantic_settings import BaseSettings

from core.config import Settings


@dataclass(frozen=True)
class Variable:
    """One environment variable: the class that reads it, and its field there."""

    model: type[BaseSettings]
    field: str

    def default(self) -> object:
        # model_construct reads no environment: the class's own defaults, computed ones too.
        return self.model.model_construct().model_dump()[self.field]

    def may_use_words(self) -> bool:
        """Only a default computed from other settings, or a development secret, is in words."""
        info = self.model.model_fields[self.field]
        return info.default_factory is not None or self.field.endswith("_secret")


def variables(older_names: bool = False) -> dict[str, Variable]:
    """Every variable the settings read: the service's, and each provider's under its prefix;
    with `older_names`, also the names a field reads besides its own (SMS_PROVIDER)."""
    found = {}
    for name, info in Settings.model_fields.items():
        section = info.annotation
        if isinstance(section, type) and issubclass(section, BaseSettings):
            prefix = str(section.model_config.get("env_prefix", ""))
            found.update(
                {f"{prefix}{f}".upper(): Variable(section, f) for f in section.model_fields}
            )
        else:
            found[name.upper()] = Variable(Settings, name)
    for name, info in Settings.model_fields.items() if older_names else ():
        for alias in getattr(info.validation_alias, "choices", []):
            found.setdefault(str(alias).upper(), Variable(Settings, name))
    return found
