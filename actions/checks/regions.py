"""Checks about regions and the operators that change them.

Region facts recorded for the fingerprint: key range, epoch (``conf_ver``, ``version``), leader store,
peers by store with their role, and the stores of down and pending peers. Sizes and flow are left out:
they move every heartbeat and would void approvals for nothing.
"""

from __future__ import annotations

from typing import Any

from actions.checks.base import Check, CheckContext, Outcome, fail, ok, percent, stores_text, warn
from actions.checks.stores import rejected_labels
from actions.models import OperatorOutcome
from actions.params import int_param, list_param, str_param
from actions.ports import RegionSnapshot

JOINT_ROLES = ("IncomingVoter", "DemotingVoter")


def region_fact(region: RegionSnapshot | None) -> dict[str, Any] | None:
    """What the fingerprint hashes about one region."""
    if region is None:
        return None
    return {
        "id": region.id,
        "start_key": region.start_key,
        "end_key": region.end_key,
        "conf_ver": region.conf_ver,
        "version": region.version,
        "leader_store_id": region.leader_store_id,
        "peers": {str(p.store_id): p.role for p in sorted(region.peers, key=lambda p: p.store_id)},
        "witness_store_ids": sorted(p.store_id for p in region.peers if p.is_witness),
        "down_store_ids": sorted(region.down_peer_store_ids),
        "pending_store_ids": sorted(region.pending_peer_store_ids),
    }


def region_data(region: RegionSnapshot) -> dict[str, Any]:
    """What a person needs to judge a region check."""
    return {
        "region_id": region.id,
        "leader_store_id": region.leader_store_id,
        "peers": {str(p.store_id): p.role for p in region.peers},
        "epoch": {"conf_ver": region.conf_ver, "version": region.version},
        "down_store_ids": list(region.down_peer_store_ids),
        "pending_store_ids": list(region.pending_peer_store_ids),
        "approximate_size_mib": region.approximate_size_mib,
    }


def _peer_stores(region: RegionSnapshot) -> str:
    return stores_text({p.store_id for p in region.peers})


async def _region(ctx: CheckContext, param: str) -> RegionSnapshot | None:
    return await ctx.region(int_param(ctx.params, param))


def region_exists(param: str = "region_id", *, fact: str = "region", need_leader: bool = True) -> Check:
    """The region exists (and has a leader, unless ``need_leader`` is off)."""

    async def run(ctx: CheckContext) -> Outcome:
        region_id = int_param(ctx.params, param)
        region = await ctx.region(region_id)
        ctx.facts[fact] = region_fact(region)
        if region is None:
            return fail(
                f"region {region_id} does not exist (it may have been split or merged); look it up again",
                region_id=region_id,
            )
        if need_leader and not region.leader_store_id:
            return fail(
                f"region {region_id} has no leader right now, so PD cannot change it; try again "
                "once it elects one",
                **region_data(region),
            )
        leader = f"leader on store {region.leader_store_id}" if region.leader_store_id else "no leader"
        return ok(
            f"region {region_id} [{region.start_key or '-∞'}, {region.end_key or '+∞'}): {leader}, "
            f"peers on {_peer_stores(region)}",
            **region_data(region),
        )

    name = {"region": "region exists", "source_region": "source region", "target_region": "target region"}
    return Check(name.get(fact, fact), run)


def no_running_operator(param: str = "region_id", *, name: str = "no running operator") -> Check:
    """No operator is running on the region (PD refuses a second admin operator)."""

    async def run(ctx: CheckContext) -> Outcome:
        region_id = int_param(ctx.params, param)
        operator = await ctx.operator(region_id)
        if operator is not None and operator.outcome is OperatorOutcome.RUNNING:
            what = operator.desc + (f" ({operator.brief})" if operator.brief else "")
            return fail(
                f"region {region_id} already has a running operator, {what}; wait for it to finish or cancel "
                f"it with cancel-operator {region_id}",
                region_id=region_id,
                operator=operator.desc,
                brief=operator.brief,
            )
        last = f"; the last one ended {operator.outcome.value}" if operator is not None else ""
        return ok(f"no operator is running on region {region_id}{last}", region_id=region_id)

    return Check(name, run)


def region_healthy(
    param: str = "region_id", *, strict: bool = True, leaving: str | None = None, name: str = "region healthy"
) -> Check:
    """No down or pending peers and no joint state; a peer on the ``leaving`` store may be the unhealthy one.

    ``strict`` fails on unhealthy peers (split, merge, moving or removing another peer); otherwise it
    warns (adding a peer is how an unhealthy region is repaired).
    """

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, param)
        if region is None:
            return None
        leaving_store = int_param(ctx.params, leaving) if leaving else None
        data = region_data(region)
        joint = [p for p in region.peers if p.role in JOINT_ROLES]
        if joint:
            return fail(
                f"region {region.id} is in the middle of a membership change (joint consensus on "
                f"{stores_text({p.store_id for p in joint})}); try again in a minute",
                **data,
            )
        down = set(region.down_peer_store_ids) - {leaving_store}
        pending = set(region.pending_peer_store_ids) - {leaving_store}
        if down or pending:
            parts = [f"down peers on {stores_text(down)}"] if down else []
            parts += [f"pending peers on {stores_text(pending)}"] if pending else []
            problem = f"region {region.id} has {' and '.join(parts)}"
            if strict:
                return fail(f"{problem}; structural changes must wait until it is healthy", **data)
            return warn(f"{problem}; the new peer will need a snapshot while the region is degraded", **data)
        unhealthy = set(region.down_peer_store_ids) | set(region.pending_peer_store_ids)
        if leaving_store is not None and leaving_store in unhealthy:
            return ok(
                f"the only unhealthy peer of region {region.id} is the one on store {leaving_store}, which "
                "this action takes away",
                **data,
            )
        return ok(f"region {region.id} has no down or pending peers", **data)

    return Check(name, run)


def leader_target() -> Check:
    """transfer-leader: the target store holds a healthy voter and is not already the leader."""

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        target = int_param(ctx.params, "to_store_id")
        data = region_data(region)
        peer = region.peer_on(target)
        if region.leader_store_id == target:
            return fail(
                f"store {target} already holds the leader of region {region.id}; nothing to move", **data
            )
        if peer is None:
            return fail(
                f"region {region.id} has no peer on store {target}; a leader can only move to a "
                "store that holds "
                f"a voter (peers are on {_peer_stores(region)})",
                **data,
            )
        if not peer.is_voter:
            return fail(
                f"the peer of region {region.id} on store {target} is a {peer.role}, not a voter; "
                "only voters can lead",
                **data,
            )
        if peer.is_witness:
            return fail(
                f"the peer of region {region.id} on store {target} is a witness: it keeps the Raft log "
                "but no data, and PD never lets a witness lead (target leader is not allowed)",
                **data,
            )
        if target in region.down_peer_store_ids:
            return fail(f"the peer of region {region.id} on store {target} is down; it cannot lead", **data)
        if target in region.pending_peer_store_ids:
            return fail(
                f"the peer of region {region.id} on store {target} is pending (still catching up); "
                "it cannot lead yet",
                **data,
            )
        return ok(
            f"store {target} holds a voter of region {region.id}; the leader is on store "
            f"{region.leader_store_id}",
            **data,
        )

    return Check("target holds a voter", run)


def peer_absent(param: str) -> Check:
    """add-peer / transfer-peer: the region has no peer on the target store yet."""

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        target = int_param(ctx.params, param)
        if region.peer_on(target) is not None:
            return fail(
                f"region {region.id} already has a peer on store {target}; pick another store "
                f"(peers are on {_peer_stores(region)})",
                **region_data(region),
            )
        return ok(f"region {region.id} has no peer on store {target} yet", **region_data(region))

    return Check("no peer on target", run)


def peer_present(param: str) -> Check:
    """remove-peer / transfer-peer: the region has a peer on the store it leaves."""

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        source = int_param(ctx.params, param)
        peer = region.peer_on(source)
        if peer is None:
            return fail(
                f"region {region.id} has no peer on store {source} (peers are on {_peer_stores(region)})",
                **region_data(region),
            )
        leader = (
            " (it holds the leader; PD moves the leader away first)"
            if region.leader_store_id == source
            else ""
        )
        return ok(f"region {region.id} has a {peer.role} on store {source}{leader}", **region_data(region))

    return Check("peer on store", run)


def leader_successor(param: str, *, joining: str | None = None) -> Check:
    """remove-peer / transfer-peer of the leader's peer: another voter must be able to take the leader.

    PD's builder moves the leader off a peer it removes, and only to a peer it allows to lead: a
    voter (not a learner or a demoting voter), not a witness, on a store that is Up, not evicting
    leaders and not marked reject-leader (docs/pd-refusals.md). ``joining`` names the store a
    transfer-peer adds, which may take the leader too.
    """

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        leaving = int_param(ctx.params, param)
        if region is None or region.leader_store_id != leaving:
            return None
        candidates = [
            p.store_id for p in region.peers if p.store_id != leaving and p.is_voter and not p.is_witness
        ]
        if joining is not None:
            candidates.append(int_param(ctx.params, joining))
        by_id = {s.id: s for s in await ctx.stores()}
        evicting = set(await ctx.evicting())
        rejected = await ctx.reject_leader_labels()
        able = sorted(
            s
            for s in candidates
            if (store := by_id.get(s)) is not None
            and store.state_name == "Up"
            and s not in evicting
            and not rejected_labels(rejected, store)
        )
        ctx.note("leader_successors", str(region.id), able)
        data = {**region_data(region), "candidates": sorted(candidates), "able_to_lead": able}
        if not able:
            return fail(
                f"the leader of region {region.id} is on store {leaving}, which this takes away, and no "
                "other peer may take it (witnesses, learners and stores that are not Up, evict leaders or "
                "are marked reject-leader cannot lead); PD refuses it (no valid leader)",
                **data,
            )
        return ok(f"the leader of region {region.id} can move to {stores_text(able)} first", **data)

    return Check("leader can move away", run)


def _labels(raw: object) -> list[str]:
    """PD's ``location-labels`` (a comma-joined string, or a list) as a list of names."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    return [str(p).strip() for p in parts if str(p).strip()]


def isolation_kept(target: str, *, leaving: str | None = None) -> Check:
    """add-peer / transfer-peer: the new copy does not share a failure domain with the others.

    Stricter than PD, whose admin operators ignore isolation: the level is ``isolation-level`` when
    set, else the first of ``location-labels``. Sharing it fails when ``isolation-level`` is set and
    another Up store would keep the copies apart; otherwise it warns (docs/pd-refusals.md).
    """

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        config = await ctx.config()
        level = str(config.get("isolation-level") or "")
        labels = _labels(config.get("location-labels"))
        key = level or (labels[0] if labels else "")
        if not key:
            return None
        target_id = int_param(ctx.params, target)
        gone = int_param(ctx.params, leaving) if leaving else None
        by_id = {s.id: s for s in await ctx.stores()}
        store = by_id.get(target_id)
        if store is None or key not in store.labels:
            return None
        others = {p.store_id for p in region.peers if p.store_id not in (target_id, gone)}
        used = {by_id[s].labels.get(key) for s in others if s in by_id}
        where = f"{key}={store.labels[key]}"
        data = {"level": key, "target": where, "used": sorted(str(u) for u in used)}
        ctx.note("isolation", str(target_id), where)
        if store.labels[key] not in used:
            return ok(f"store {target_id} ({where}) keeps the copies of region {region.id} apart", **data)
        sharing = sorted(s for s in others if s in by_id and by_id[s].labels.get(key) == store.labels[key])
        better = sorted(
            s.id
            for s in by_id.values()
            if s.state_name == "Up" and s.id not in others and s.labels.get(key) not in used
        )
        problem = (
            f"store {target_id} is in {where} like {stores_text(sharing)}: one {key} failure would take "
            f"two copies of region {region.id}"
        )
        if level and better:
            return fail(f"{problem}; isolation-level is {level}, pick {stores_text(better)}", **data)
        hint = f"; {stores_text(better)} would keep them apart" if better else ""
        return warn(problem + hint, **data)

    return Check("isolation", run)


def replicas_after_removal() -> Check:
    """remove-peer: enough healthy voters remain.

    Fails when no healthy copy would remain, when the healthy voters left would not be a majority, or when
    fewer than a majority of ``max-replicas`` voters would remain; warns when the region ends up with fewer
    voters than ``max-replicas`` (PD's replica checker then adds one back). Down peers are not healthy.
    """

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        store_id = int_param(ctx.params, "store_id")
        peer = region.peer_on(store_id) if region is not None else None
        if region is None or peer is None:
            return None
        max_replicas = await ctx.max_replicas()
        if not peer.is_voter:
            return ok(
                f"the peer on store {store_id} is a {peer.role}; removing it leaves the voters as they are"
            )
        down = set(region.down_peer_store_ids)
        voters = [p.store_id for p in region.peers if p.is_voter]
        healthy = [s for s in voters if s not in down]
        after = len(voters) - 1
        healthy_after = len([s for s in healthy if s != store_id])
        data = {
            "voters": voters,
            "healthy_voters": healthy,
            "voters_after": after,
            "healthy_voters_after": healthy_after,
            "max_replicas": max_replicas,
        }
        if healthy_after == 0:
            return fail(
                f"removing the peer on store {store_id} would remove the last healthy copy of region "
                f"{region.id}",
                **data,
            )
        if healthy_after < after // 2 + 1:
            return fail(
                f"region {region.id} would keep {healthy_after} healthy voter(s) out of {after}: "
                "not a majority, "
                "so it could not elect a leader or accept writes",
                **data,
            )
        if after <= max_replicas // 2:
            return fail(
                f"region {region.id} would keep only {after} voter(s), fewer than a majority of max-replicas "
                f"{max_replicas}; one more failure would lose data",
                **data,
            )
        if after < max_replicas:
            return warn(
                f"region {region.id} would have {after} voters, fewer than max-replicas {max_replicas}; PD's "
                "replica checker will add one back",
                **data,
            )
        return ok(f"region {region.id} keeps {after} voters (max-replicas {max_replicas})", **data)

    return Check("replicas after removal", run)


def replica_count() -> Check:
    """add-peer: warn when the region already has ``max-replicas`` healthy voters (PD will trim one)."""

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        max_replicas = await ctx.max_replicas()
        down = set(region.down_peer_store_ids)
        healthy_voters = [p.store_id for p in region.peers if p.is_voter and p.store_id not in down]
        data = {"healthy_voters": healthy_voters, "max_replicas": max_replicas}
        if len(healthy_voters) >= max_replicas:
            return warn(
                f"region {region.id} already has {len(healthy_voters)} healthy voters "
                f"(max-replicas {max_replicas}); "
                "PD's replica checker will remove one again unless max-replicas is raised",
                **data,
            )
        return ok(
            f"region {region.id} has {len(healthy_voters)} healthy voters of max-replicas {max_replicas}",
            **data,
        )

    return Check("replica count", run)


def split_keys_in_range() -> Check:
    """split-region usekey: every key lies strictly inside the region (a boundary key splits nothing)."""

    async def run(ctx: CheckContext) -> Outcome | None:
        if str_param(ctx.params, "policy", "scan") != "usekey":
            return None
        region = await _region(ctx, "region_id")
        if region is None:
            return None
        keys = list_param(ctx.params, "keys")
        if not keys:
            return fail("split with usekey needs at least one key")
        start, end = bytes.fromhex(region.start_key), bytes.fromhex(region.end_key)
        outside = [k for k in keys if bytes.fromhex(k) <= start or (end and bytes.fromhex(k) >= end)]
        data = {"start_key": region.start_key, "end_key": region.end_key, "keys": keys}
        if outside:
            return fail(
                f"split key {', '.join(outside)} is not inside region {region.id} "
                f"[{region.start_key or '-∞'}, {region.end_key or '+∞'}); a key must be strictly between "
                "the region's start and end",
                **data,
            )
        return ok(f"every split key lies inside region {region.id}", **data)

    return Check("split keys in range", run)


def fully_replicated(param: str, *, name: str) -> Check:
    """merge-region: PD merges only fully replicated regions (``IsRegionReplicated``).

    Exactly max-replicas voters, no learners and no witnesses: the shape PD's default placement
    rule asks for. Anything else PD refuses as an abnormal peer (docs/pd-refusals.md).
    """

    async def run(ctx: CheckContext) -> Outcome | None:
        region = await _region(ctx, param)
        if region is None:
            return None
        max_replicas = await ctx.max_replicas()
        learners = sorted(p.store_id for p in region.peers if not p.is_voter)
        witnesses = sorted(p.store_id for p in region.peers if p.is_witness)
        voters = [p for p in region.peers if p.is_voter and not p.is_witness]
        data = {**region_data(region), "max_replicas": max_replicas, "witness_store_ids": witnesses}
        problems = []
        if learners:
            problems.append(f"learners on {stores_text(learners)}")
        if witnesses:
            problems.append(f"witnesses on {stores_text(witnesses)}")
        if len(voters) != max_replicas:
            problems.append(f"{len(voters)} full voters where max-replicas is {max_replicas}")
        if problems:
            return fail(
                f"region {region.id} is not fully replicated ({'; '.join(problems)}); PD refuses to merge "
                f"it (region {region.id} has abnormal peer)",
                **data,
            )
        return ok(f"region {region.id} has exactly {max_replicas} full voters and no learners", **data)

    return Check(name, run)


def not_hot() -> Check:
    """scatter-region: PD refuses to scatter a region it counts as hot (``region N is a hot region``).

    Hotness moves with traffic, so it is checked but not fingerprinted.
    """

    async def run(ctx: CheckContext) -> Outcome:
        region_id = int_param(ctx.params, "region_id")
        if region_id in await ctx.hot_regions():
            return fail(
                f"region {region_id} is hot right now; PD refuses to scatter a hot region "
                f"(region {region_id} is a hot region); try again when its traffic calms down",
                region_id=region_id,
            )
        return ok(f"region {region_id} is not hot", region_id=region_id)

    return Check("region not hot", run)


def regions_adjacent() -> Check:
    """merge-region: the two regions are neighbours."""

    async def run(ctx: CheckContext) -> Outcome | None:
        source = await _region(ctx, "source_region_id")
        target = await _region(ctx, "target_region_id")
        if source is None or target is None:
            return None
        data = {
            "source": [source.start_key, source.end_key],
            "target": [target.start_key, target.end_key],
        }
        if (source.end_key and source.end_key == target.start_key) or (
            target.end_key and target.end_key == source.start_key
        ):
            return ok(f"regions {source.id} and {target.id} are neighbours", **data)
        return fail(
            f"regions {source.id} [{source.start_key or '-∞'}, {source.end_key or '+∞'}) and {target.id} "
            f"[{target.start_key or '-∞'}, {target.end_key or '+∞'}) are not neighbours; only "
            "adjacent regions "
            "can merge",
            **data,
        )

    return Check("regions adjacent", run)


def operator_running() -> Check:
    """cancel-operator: there is a running operator to cancel."""

    async def run(ctx: CheckContext) -> Outcome:
        region_id = int_param(ctx.params, "region_id")
        operator = await ctx.operator(region_id)
        ctx.facts["operator"] = (
            {"desc": operator.desc, "brief": operator.brief, "status": operator.outcome.value}
            if operator is not None
            else None
        )
        if operator is None:
            return fail(f"region {region_id} has no running operator; nothing to cancel", region_id=region_id)
        if operator.outcome is not OperatorOutcome.RUNNING:
            return fail(
                f"region {region_id} has no running operator; its last one ({operator.desc}) ended "
                f"{operator.outcome.value}",
                region_id=region_id,
                operator=operator.desc,
            )
        return ok(
            f"region {region_id} runs {operator.desc}" + (f" ({operator.brief})" if operator.brief else ""),
            region_id=region_id,
            operator=operator.desc,
            brief=operator.brief,
        )

    return Check("operator running", run)


def target_space(param: str) -> Check:
    """The store receiving a peer has room: below PD's low-space threshold fails, within 10 points warns."""

    async def run(ctx: CheckContext) -> Outcome | None:
        store_id = int_param(ctx.params, param)
        store = await ctx.store(store_id)
        if store is None:
            return None
        if not store.capacity_bytes:
            return ok(
                f"PD reports no capacity for store {store_id}; free space not checked", store_id=store_id
            )
        low_space_ratio = (await ctx.config()).get("low-space-ratio", 0.8)
        threshold = 1 - float(low_space_ratio)
        region = await _region(ctx, "region_id")
        size = region.approximate_size_mib * 1024 * 1024 if region is not None else 0
        free = store.available_ratio
        data = {
            "store_id": store_id,
            "available_bytes": store.available_bytes,
            "capacity_bytes": store.capacity_bytes,
            "available_ratio": round(free, 4),
            "low_space_ratio": low_space_ratio,
            "region_size_bytes": size,
        }
        if free < threshold:
            return fail(
                f"store {store_id} has only {percent(free)} free; PD treats a store with less than "
                f"{percent(threshold)} free as low on space (low-space-ratio {low_space_ratio})",
                **data,
            )
        if size > store.available_bytes:
            return fail(f"store {store_id} has less free space than the region's {size >> 20} MiB", **data)
        if free < threshold + 0.1:
            return warn(
                f"store {store_id} has {percent(free)} free, close to PD's low-space threshold of "
                f"{percent(threshold)}",
                **data,
            )
        return ok(f"store {store_id} has {percent(free)} free", **data)

    return Check("target store space", run)
