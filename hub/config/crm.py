"""Settings of the CRM side (``[crm]``): the customer tiers people may choose, the directory's
page and import limits, and the thresholds of the insight lists."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InsightSettings(_Model):
    """Most active: most conversations in ``active_days``. Repeated complaints: at least
    ``complaint_tickets`` tickets in ``complaint_days``. Churn risk: an open ticket and no
    contact for ``churn_silent_days``, or fewer conversations in the last ``churn_trend_days``
    than in as many days before. Highest value: ordered by the number in ``value_attribute``."""

    active_days: int = Field(30, ge=1, le=3650)
    active_min_conversations: int = Field(2, ge=1, le=10_000)
    complaint_tickets: int = Field(3, ge=2, le=1000)
    complaint_days: int = Field(30, ge=1, le=3650)
    churn_silent_days: int = Field(14, ge=1, le=3650)
    churn_trend_days: int = Field(30, ge=1, le=3650)
    value_attribute: str = Field("lifetime_value", pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    value_min: float = 0.0
    limit: int = Field(100, ge=1, le=1000)


class CrmSettings(_Model):
    tiers: tuple[str, ...] = ("standard", "silver", "gold", "platinum")
    page_size: int = Field(50, ge=5, le=500)
    import_max_rows: int = Field(10_000, ge=1, le=1_000_000)
    import_max_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    insights: InsightSettings = InsightSettings()

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one tier")
        for tier in value:
            if not tier or len(tier) > 32 or not tier.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"{tier!r} is not a tier name (letters, digits, - and _)")
        return value
