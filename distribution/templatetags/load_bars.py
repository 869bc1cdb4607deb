"""The state of an operator's load against its limit, for templates/distribution/_load_bar.html."""

from dataclasses import dataclass

from django import template

register = template.Library()


@dataclass(frozen=True)
class LoadState:
    load: int
    limit: int

    @property
    def over(self) -> int:
        """Open contacts beyond the limit (after a limit was lowered), else 0."""
        return max(0, self.load - self.limit)

    @property
    def name(self) -> str:
        """ "over" the limit, "full" at it, "near" one short of it, else "below"."""
        if self.over:
            return "over"
        if self.load >= self.limit:
            return "full"
        if self.load + 1 >= self.limit:
            return "near"
        return "below"

    @property
    def width(self) -> int:
        """The bar's filled part, in percent of the track."""
        if self.load >= self.limit:
            return 100 if self.load else 0
        return round(100 * self.load / self.limit)


@register.simple_tag
def load_state(load: int, limit: int) -> LoadState:
    return LoadState(int(load or 0), int(limit or 0))
