"""The Jinja2 environment of the pages: templates in ``present/templates/``, autoescape on.

Every value a template prints is escaped by Jinja2, so page code never escapes by hand.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    """The shared, cached environment (strict: an unknown name in a template is an error)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("hubopt.present", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render ``present/templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
