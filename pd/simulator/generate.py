"""Deterministic cluster generation: the same seed gives the same stores, regions and load.

Region boundaries are TiDB-looking keys (``7480000000000000FF…``) spread evenly over the key
space; replicas go to distinct random stores, the leader is a random voter, sizes sit around
TiKV's 96 MiB split size with a few empty regions, and a small fraction of regions is hot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pd.simulator.topology import Peer, Region

if TYPE_CHECKING:
    from pd.simulator.model import ClusterModel

KEY_PREFIX = "7480000000000000FF"
_KEY_DIGITS = 12
KIB = 1024
MIB = 1024 * KIB
TIB = 1024 * 1024 * MIB


def boundary_keys(count: int) -> list[str]:
    """``count - 1`` sorted hex keys splitting the key space into ``count`` regions."""
    step = (16**_KEY_DIGITS - 1) // max(count, 1)
    return [f"{KEY_PREFIX}{i * step:0{_KEY_DIGITS}X}" for i in range(1, count)]


def populate(
    model: ClusterModel,
    *,
    stores: int,
    regions: int,
    replicas: int = 3,
    zones: int = 3,
    hot_fraction: float = 0.01,
    first_id: int = 0,
) -> None:
    """Fill an empty model with ``stores`` stores and ``regions`` contiguous regions; region and peer
    ids start after the stores' (or at ``first_id`` when that is larger)."""
    if model.stores or model.regions:
        raise ValueError("populate needs an empty model")
    rng = model.rng
    replicas = min(replicas, stores)
    # Size the disks so the data takes roughly a tenth of them, as on a healthy cluster.
    expected_per_store = regions * replicas * 96 * MIB // max(stores, 1)
    capacity = TIB
    while capacity < expected_per_store * 8:
        capacity *= 2
    for i in range(1, stores + 1):
        model.add_store(
            store_id=i,
            labels={"zone": f"z{(i - 1) % max(zones, 1) + 1}", "host": f"tikv-{i}"},
            capacity=capacity,
        )
    if regions <= 0 or stores <= 0:
        return
    store_ids = sorted(model.stores)
    keys = ["", *boundary_keys(regions), ""]
    next_id = max(max(store_ids) + 1, first_id)
    randrange = rng.randrange
    random = rng.random
    sample = rng.sample
    for i in range(regions):
        region_id = next_id
        chosen = sample(store_ids, replicas)
        peers = [Peer(next_id + 1 + j, store_id) for j, store_id in enumerate(chosen)]
        next_id += 1 + replicas
        if random() < 0.03:
            size, key_count = 1, 0
        else:
            size = 60 + randrange(60)
            key_count = size * (8_000 + randrange(4_000))
        if random() < hot_fraction:
            written = (1 + randrange(64)) * MIB
        else:
            written = randrange(256) * KIB
        if random() < hot_fraction:
            read = (1 + randrange(128)) * MIB
            cpu = 20 + randrange(80)
        else:
            read = randrange(256) * KIB
            cpu = randrange(5)
        region = Region(
            id=region_id,
            start_key=keys[i],
            end_key=keys[i + 1],
            conf_ver=replicas + 2 + randrange(4),
            version=2 + randrange(30),
            peers=peers,
            leader=peers[randrange(replicas)],
            approximate_size=size,
            approximate_keys=key_count,
            approximate_kv_size=int(size * 0.9),
            written_bytes=written,
            read_bytes=read,
            written_keys=written // 1024,
            read_keys=read // 1024,
            write_query=written // 4096,
            read_query=read // 4096,
            cpu_usage=cpu,
        )
        model.append_region_sorted(region)
    model.reserve_ids(next_id)
