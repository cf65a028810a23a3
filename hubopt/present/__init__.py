"""Presentation: everything a person reads — number formats and colours
(:mod:`~hubopt.present.format`), inline SVG charts (:mod:`~hubopt.present.charts`), the
campaign-review page (:mod:`~hubopt.present.report`), the comparison page
(:mod:`~hubopt.present.compare_page`) and the Folium maps (:mod:`~hubopt.present.maps`).

Pages are rendered from Jinja2 templates in ``present/templates/``. Nothing here writes
files (that is :mod:`hubopt.runs`) or computes KPIs (that is :mod:`hubopt.kpis`).
"""
