"""``site``: a siting proposal for one facility type, from the store.

Reads the road network of the type's mode (unless the caller passes cached
ones), the residents, villages and facilities, and the user's candidates file
(:func:`planner.ingest.candidates.read_candidates`), then runs
:func:`planner.siting.proposal.propose`. Saving the proposal as a scenario is
:func:`planner.services.scenarios.save_proposal`; its files are written by
:func:`planner.reports.siting.write_proposal`.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from geo.graph import RoadNetwork
from planner.ingest.candidates import find_place, read_candidates
from planner.networks import load_networks
from planner.progress import scaled
from planner.services._common import Progress, no_progress
from planner.settings import Config
from planner.siting.changes import BEST, Place, Relocation, SiteChanges, find_facility
from planner.siting.options import SitingOptions
from planner.siting.proposal import Proposal, propose
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame

__all__ = ["Proposal", "SiteChanges", "SitingOptions", "site", "site_changes"]

#: Share of the progress bar given to reading the networks and the store.
_READ_SHARE = 0.1


def site(
    store: Store,
    *,
    config: Config,
    options: SitingOptions,
    networks: Mapping[str, RoadNetwork] | None = None,
    progress: Progress = no_progress,
) -> Proposal:
    """Propose new sites (and upgrades) of one facility type.

    Parameters
    ----------
    store
        The district's store (residents, villages, facilities, the network file).
    config
        Thresholds and costs (``[facility_types.<type>]``), solver settings and
        limits (``[siting]``), ``[network]``.
    options
        What is asked: type, objective, new sites, budget, upgrades, candidates
        file, exclusions, rules, ``time_limit_s`` (seconds; default
        ``[siting] time_limit_s``), ``today``.
    networks
        Road networks per mode, when the caller has them loaded; else the
        type's mode is loaded from the store's registered OSM file (or
        ``options.network_file``).
    progress
        Told each stage (networks, data, problem, solver stages, coverage)
        with the share done (0–1).

    Returns
    -------
    Proposal
        The ranked new sites and upgrades, and the coverage before and after.

    Raises
    ------
    SitingError
        Unknown type, a type sited by village, a missing network, or a problem
        that cannot be solved (the message names the rule to relax).
    InputError
        A bad candidates file (file, row, column named).
    """
    ft = options.type_config(config)
    if networks is None:
        progress(f"读取 {ft.mode} 道路网络", 0.0)
        builds = load_networks(store, config=config, modes=[ft.mode], path=options.network_file)
        networks = {mode: build.network for mode, build in builds.items()}
    progress("读取名册、村社和设施", _READ_SHARE / 2)
    residents = residents_frame(store)
    villages = villages_frame(store)
    facilities = facilities_frame(store)
    candidates = (
        read_candidates(options.candidates_file, villages=villages, crs=options.candidates_crs)
        if options.candidates_file is not None
        else None
    )
    changes = site_changes(
        options, config=config, facilities=facilities, villages=villages, candidates=candidates
    )
    return propose(
        residents,
        villages,
        facilities,
        config=config,
        options=options,
        networks=networks,
        candidates=candidates,
        changes=changes,
        progress=scaled(progress, _READ_SHARE, 1.0),
    )


def site_changes(
    options: SitingOptions,
    *,
    config: Config,
    facilities: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    candidates: pd.DataFrame | None,
) -> SiteChanges:
    """The closures and relocations of ``options``, resolved: each facility by
    code or name among those of the type, each place as a candidates row, a
    village or ``LON,LAT`` (:func:`planner.ingest.candidates.find_place`).

    Raises
    ------
    InputError
        A facility or a place that cannot be found (the message lists the
        facilities of the type, or says how to write a place).
    """
    ft = options.type_config(config)

    def code(text: str, option: str) -> str:
        row = find_facility(
            text, facilities, type_key=options.facility_type, label=ft.label, option=option
        )
        return str(row["key"])

    relocations = []
    for facility, to in options.relocate:
        place = None
        if to.lower() != BEST:
            found = find_place(
                to, villages=villages, candidates=candidates, crs=options.candidates_crs
            )
            place = Place(**found)
        relocations.append(Relocation(facility=code(facility, "--relocate"), to=place))
    return SiteChanges(
        close=tuple(code(c, "--close") for c in options.close), relocate=tuple(relocations)
    )
