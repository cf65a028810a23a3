"""Delivery routes from the open hubs: vehicle routing with time windows (OR-Tools).

Modules: ``fleet`` (vans per hub from the vehicles table), ``instance`` (one routing
problem per open hub and period, built from a plan's flows), ``vrp`` (the OR-Tools
model and search), ``plan`` (all hubs, in parallel, decoded to tables), ``verify`` (the
independent route verifier), ``kpis`` (route KPIs) and ``locate`` (integrated
location-routing). Only this package and ``hubopt/solvers`` import OR-Tools.
"""
