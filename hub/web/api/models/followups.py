"""Shapes of the follow-up template and FAQ endpoints: a template variant for a channel and
locale, its rendering, and the FAQ bot's entries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from hub.core.errors import invalid_field
from hub.web.api.models.common import (
    Answer,
    Id,
    Names,
    Params,
    PathId,
    Reading,
    Says,
    refused,
    settings_in,
)

MAX_SOURCE = 64 * 1024
LOCALE = Says("must be empty or a language code such as en or de")

Locale = Annotated[
    str,
    LOCALE,
    Field(pattern="^([a-zA-Z]{2,3})?$", description="empty: any"),
    AfterValidator(str.lower),
]


class FaqId(Params):
    id: Annotated[PathId, Names("FAQ entry"), Field(description="FAQ entry id")]


class TemplateName(Params):
    name: Annotated[
        str,
        Names("template"),
        Field(pattern="^[a-z0-9][a-z0-9_-]{0,99}$", description="template name"),
    ]


PART = Says(
    f"must be a string of at most {MAX_SOURCE} characters",
    on={"missing": "is required (the plain-text body)"},
)
Part = Annotated[Annotated[str, Field(max_length=MAX_SOURCE)] | SkipJsonSchema[None], PART]


class TemplateSource(Reading):
    channel: Annotated[
        str,
        Says("must be empty or the name of a configured channel"),
        Field(description="empty or a configured channel name"),
    ] = ""
    locale: Locale = ""
    subject: Part = None
    txt: Annotated[Part, Field(description="the plain-text body (Jinja2)")]
    html: Part = None

    @field_validator("channel")
    @classmethod
    def _configured(cls, value: str, info: ValidationInfo) -> str:
        if value and value not in settings_in(info.context).channels:
            raise ValueError("not configured")
        return value

    @model_validator(mode="after")
    def _has_text(self) -> TemplateSource:
        if self.txt is None:
            raise refused(invalid_field("txt", "is required (the plain-text body)"))
        return self

    def parts(self) -> dict[str, str]:
        given = {"subject": self.subject, "txt": self.txt, "html": self.html}
        return {part: text for part, text in given.items() if text is not None}


class Rendered(Answer):
    subject: str
    text: str
    html: str | None


class SavedTemplate(Answer):
    name: str
    channel: str
    locale: str
    parts: list[Literal["html", "subject", "txt"]]


FAQ_TEXT = Says("is required and must be a non-empty string")


class NewFaq(Reading):
    question: Annotated[str, FAQ_TEXT, Field(min_length=1, max_length=MAX_SOURCE)]
    answer: Annotated[str, FAQ_TEXT, Field(min_length=1, max_length=MAX_SOURCE)]
    locale: Locale = ""

    @field_validator("question", "answer", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SOURCE:
            raise refused(
                invalid_field(str(info.field_name), "is required and must be a non-empty string")
            )
        return value.strip()


class FaqEntry(Answer):
    id: Id
    question: str
    answer: str
    locale: str = Field(pattern="^([a-zA-Z]{2,3})?$", description="empty: any")


class FaqEntries(Answer):
    items: list[FaqEntry]
