"""Identity unification (身份打通): link one person's records across channels into one ``customer_id``.

Each record carries some of these keys: member card (会员卡号), valid phone (手机号), WeChat ``unionid`` and ``openid``,
and the online shop's own id (``shop_uid``). Two keys on the same record are an *edge*; the member master data adds
card–phone edges. Union-find over the edges gives the connected groups of keys: one group, one person.

Rules (each visible in the result, none silent):

- A group holds **at most one member card**. An edge that would join two cards (one phone typed next to two cards,
  say) is not applied; it is reported in ``conflicts`` with both cards and where it came from.
- Edges are applied strongest first: member master data, then edges seen on more records, then in file order, so one
  mistyped row cannot steal a phone from the card it appears with a hundred times.
- A record with a card keeps its card (the card is scanned, the phone typed). A record without a card takes its
  group's card; a group with no card gets a guest id (``G000001``…, in order of first appearance).
- Masked phones (``154****5678``) are never keys: many people share a masked form.

Examples
--------
>>> import pandas as pd
>>> records = pd.DataFrame({
...     "member_card": ["M000101", None, None, None],
...     "phone": ["15400000001", "15400000001", None, None],
...     "unionid": [None, "oUn-a", "oUn-a", "oUn-b"],
... })
>>> link_identities(records).customer_id.tolist()
['M000101', 'M000101', 'M000101', 'G000001']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from opskit.i18n import Text

KEY_TYPES: tuple[str, ...] = ("member_card", "phone", "unionid", "openid", "shop_uid")
KEY_LABELS = {
    "member_card": Text("会员卡号", "member card"),
    "phone": Text("手机号", "phone"),
    "unionid": Text("unionid", "unionid"),
    "openid": Text("openid", "openid"),
    "shop_uid": Text("商城用户ID", "shop user id"),
}
MEMBERS_SOURCE = "members"


@dataclass
class Identity:
    """The result of :func:`link_identities`.

    Attributes
    ----------
    customer_id : Series
        One per input record (same index): the member card, a guest id, or <NA> for records with no key (walk-ins).
    keys : DataFrame
        The identity map, one row per key seen in the records: ``customer_id``, ``key_type``, ``key`` (phones shown
        masked, with their pseudonym when a pseudonymizer is given), ``matched_via`` (the key it was linked through,
        or "—" for the card itself), ``evidence`` (file:row of the first record, or ``members``), ``records``.
    conflicts : DataFrame
        Edges that would have joined two member cards: ``key_type``, ``key``, ``cards``, ``kept_with`` (the card the
        key stays with), ``source``, ``row``, ``records`` and ``resolution``.
    """

    customer_id: pd.Series
    keys: pd.DataFrame
    conflicts: pd.DataFrame

    def for_customer(self, customer_id: str) -> pd.DataFrame:
        """The identity-map rows of one customer."""
        return self.keys[self.keys["customer_id"] == customer_id].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """How many customers were linked through how many key types (e.g. card + phone + unionid)."""
        linked = self.keys.groupby("customer_id", sort=True)["key_type"].agg(lambda s: " + ".join(
            t for t in KEY_TYPES if t in set(s)))
        table = linked.value_counts().rename_axis("keys").reset_index(name="customers")
        return table.sort_values(["customers", "keys"], ascending=[False, True], ignore_index=True)


class _UnionFind:
    def __init__(self, size: int, is_card: np.ndarray) -> None:
        self.parent = list(range(size))
        self.card = [i if flag else -1 for i, flag in enumerate(is_card.tolist())]

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: int, b: int) -> tuple[bool, int, int]:
        """Join the groups of a and b unless they hold two different cards: (joined, card_of_a, card_of_b)."""
        ra, rb = self.find(a), self.find(b)
        ca, cb = self.card[ra], self.card[rb]
        if ra == rb:
            return True, ca, cb
        if ca >= 0 and cb >= 0:
            return False, ca, cb
        self.parent[rb] = ra
        self.card[ra] = ca if ca >= 0 else cb
        return True, ca, cb


def _display(key_type: pd.Series, value: pd.Series, pseudonymizer) -> pd.Series:
    from opskit.privacy import mask_phone

    shown = value.astype(object).copy()
    phones = key_type == "phone"
    if phones.any():
        masked = mask_phone(value[phones])
        if pseudonymizer is not None:
            masked = masked + " · " + pseudonymizer(value[phones])
        shown[phones] = masked
    return shown


def _empty_to_na(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: None if v is None else (str(v).strip() or None))
    return text


def link_identities(
    records: pd.DataFrame,
    keys: tuple[str, ...] | list[str] | None = None,
    *,
    members: pd.DataFrame | None = None,
    source_column: str = "source",
    row_column: str = "row",
    guest_prefix: str = "G",
    pseudonymizer=None,
) -> Identity:
    """Link records to people by union-find over the keys they share.

    Parameters
    ----------
    records : DataFrame
        One row per record, with key columns named after the key types (``member_card``, ``phone``, ``unionid``,
        ``openid``, ``shop_uid``; absent columns are skipped). Phones must already be normalised (valid 11-digit
        numbers only: see :func:`opskit.collect.normalize_phones`). Empty strings count as missing.
    keys : sequence of str, optional
        Key columns to use, in order of trust; the first is the anchor of each record. Default: the types present.
    members : DataFrame, optional
        Member master data with ``customer_id`` (the card) and ``phone``: adds trusted card–phone edges.
    source_column, row_column : str
        Columns naming each record's file and row, for the evidence (optional).
    guest_prefix : str, default ``"G"``
        Prefix of ids for groups without a member card.
    pseudonymizer : opskit.privacy.Pseudonymizer, optional
        Adds each phone's pseudonym next to its mask in the identity map.

    Returns
    -------
    Identity
    """
    if keys is None:
        keys = [k for k in KEY_TYPES if k in records.columns]
    keys = list(keys)
    unknown = [k for k in keys if k not in KEY_TYPES]
    if unknown:
        raise ValueError(str(Text(f"未知键类型 {unknown}; 可选: {', '.join(KEY_TYPES)}",
                                  f"unknown key types {unknown}; choose from: {', '.join(KEY_TYPES)}")))
    missing = [k for k in keys if k not in records.columns]
    if missing:
        raise ValueError(str(Text(f"records 缺少列 {missing}; 现有列: {list(records.columns)}",
                                  f"records has no column {missing}; columns: {list(records.columns)}")))
    if "member_card" not in keys:
        keys_for_cards: list[str] = []
    else:
        keys_for_cards = ["member_card"]
    n = len(records)
    position = np.arange(n)
    source = records[source_column].astype(str).to_numpy() if source_column in records else np.full(n, "")
    row = records[row_column].to_numpy() if row_column in records else position + 1

    # Long table of (record position, key type, value), in trust order.
    long_parts = []
    for rank, key in enumerate(keys):
        values = _empty_to_na(records[key])
        present = values.notna().to_numpy()
        long_parts.append(pd.DataFrame({"pos": position[present], "rank": rank, "key_type": key,
                                        "value": values.to_numpy()[present].astype(str)}))
    long = pd.concat(long_parts, ignore_index=True) if long_parts else pd.DataFrame(
        columns=["pos", "rank", "key_type", "value"])
    long["node_name"] = long["key_type"] + "\x1f" + long["value"]

    member_edges = pd.DataFrame(columns=["a_name", "b_name"])
    if members is not None and {"customer_id", "phone"} <= set(members.columns) and "phone" in keys:
        from opskit.collect.parse import normalize_phones

        phones = normalize_phones(members["phone"].astype(object).where(members["phone"].notna(), ""))
        ok = phones["phone"].notna().to_numpy() & members["customer_id"].notna().to_numpy()
        member_edges = pd.DataFrame({
            "a_name": "member_card\x1f" + members["customer_id"].astype(str).to_numpy()[ok],
            "b_name": "phone\x1f" + phones["phone"].to_numpy()[ok].astype(str),
        })

    names = pd.Index(pd.unique(pd.concat([long["node_name"], member_edges["a_name"], member_edges["b_name"]],
                                          ignore_index=True)))
    node_type = names.str.split("\x1f").str[0]
    node_value = names.str.split("\x1f").str[1]
    long["node"] = names.get_indexer(long["node_name"])

    # Record edges: each record's anchor (its most trusted key) to each of its other keys.
    long = long.sort_values(["pos", "rank"], kind="stable")
    anchor = long.groupby("pos", sort=False)["node"].transform("first")
    edges = long.assign(a=anchor)[lambda t: t["node"] != t["a"]].rename(columns={"node": "b"})
    grouped = edges.groupby(["a", "b"], sort=False).agg(support=("pos", "size"), first=("pos", "min")).reset_index()
    grouped["priority"] = 1
    medges = pd.DataFrame({"a": names.get_indexer(member_edges["a_name"]), "b": names.get_indexer(member_edges["b_name"]),
                           "support": 0, "first": -1, "priority": 0})
    all_edges = pd.concat([medges, grouped], ignore_index=True)
    all_edges["neg_support"] = -all_edges["support"]
    all_edges = all_edges.sort_values(["priority", "neg_support", "first", "a", "b"], kind="stable", ignore_index=True)

    is_card = np.asarray(node_type == "member_card")
    uf = _UnionFind(len(names), is_card)
    via = np.full(len(names), -1, dtype=np.int64)  # the key each node was first linked through
    via_first = np.full(len(names), -2, dtype=np.int64)  # first record of that link (-1 = members)
    conflicts = []
    for a, b, first in zip(all_edges["a"].tolist(), all_edges["b"].tolist(), all_edges["first"].tolist()):
        joined, card_a, card_b = uf.union(a, b)
        if joined:
            for node, other in ((b, a), (a, b)):
                if via[node] < 0 and not is_card[node]:
                    via[node], via_first[node] = other, first
            continue
        conflicts.append((a, b, card_a, card_b, first))

    roots = np.array([uf.find(i) for i in range(len(names))], dtype=np.int64)
    card_of_root = np.array([uf.card[r] for r in roots], dtype=np.int64)
    group_card = np.where(card_of_root >= 0, node_value.to_numpy()[np.maximum(card_of_root, 0)], None)

    # Guest ids for card-less groups, numbered by first appearance in the records.
    seen_nodes = long.sort_values(["pos", "rank"])["node"].to_numpy()
    customer_of_node = group_card.astype(object)
    guest_roots = pd.unique(roots[seen_nodes][card_of_root[seen_nodes] < 0])
    guest_id = {root: f"{guest_prefix}{i:06d}" for i, root in enumerate(guest_roots, start=1)}
    for node in np.flatnonzero(card_of_root < 0):
        customer_of_node[node] = guest_id.get(roots[node])

    # Each record: its own card if it has one, else the group of its most trusted key.
    anchors = long.drop_duplicates("pos")  # sorted by pos, rank: the anchor row of each record
    customer = pd.Series(pd.NA, index=records.index, dtype="str")
    anchor_customer = customer_of_node[anchors["node"].to_numpy()]
    own_card = anchors["key_type"].to_numpy() == "member_card"
    anchor_customer = np.where(own_card, anchors["value"].to_numpy(), anchor_customer)
    customer.iloc[anchors["pos"].to_numpy()] = anchor_customer

    # The identity map: one row per key seen in the records.
    counts = long.groupby("node").agg(records=("pos", "size"), first=("pos", "min"))
    nodes = counts.index.to_numpy()
    first_pos = counts["first"].to_numpy()
    via_nodes = via[nodes]
    via_type = np.where(via_nodes >= 0, np.asarray(node_type)[np.maximum(via_nodes, 0)], "")
    via_value = np.where(via_nodes >= 0, np.asarray(node_value)[np.maximum(via_nodes, 0)], "")
    evidence_pos = via_first[nodes]
    where_source = pd.Series(source[np.maximum(evidence_pos, 0)]).astype(str)
    where_row = pd.Series(row[np.maximum(evidence_pos, 0)]).astype(str)
    located = (where_source + ":" + where_row).where(where_source != "", "row " + where_row)
    evidence = np.where(evidence_pos == -1, MEMBERS_SOURCE, located.to_numpy())
    evidence = np.where(via_nodes < 0, "—", evidence)
    shown_via = _display(pd.Series(via_type), pd.Series(via_value), pseudonymizer)
    key_table = pd.DataFrame({
        "customer_id": pd.Series(customer_of_node[nodes], dtype="str"),
        "key_type": pd.Series(np.asarray(node_type)[nodes], dtype="str"),
        "key": _display(pd.Series(np.asarray(node_type)[nodes]), pd.Series(np.asarray(node_value)[nodes]),
                        pseudonymizer).astype("str"),
        "matched_via": pd.Series(np.where(via_nodes >= 0, pd.Series(via_type).astype(str) + " " +
                                          shown_via.astype(str), "—"), dtype="str"),
        "evidence": pd.Series(evidence, dtype="str"),
        "records": counts["records"].to_numpy().astype("int64"),
        "_first": first_pos,
        "_rank": pd.Series(np.asarray(node_type)[nodes]).map({k: i for i, k in enumerate(KEY_TYPES)}).to_numpy(),
    })
    key_table = key_table.sort_values(["customer_id", "_rank", "_first"], na_position="last", ignore_index=True)
    key_table = key_table.drop(columns=["_first", "_rank"])

    rows = []
    for a, b, card_a, card_b, first in conflicts:
        # The key that could not join is the non-card side; it stays with its own group's card.
        key_node, other_card, kept_card = (b, card_a, card_b) if node_type[b] != "member_card" else (a, card_b, card_a)
        in_record = first >= 0
        rows.append({
            "key_type": node_type[key_node],
            "_value": node_value[key_node],
            "cards": " | ".join(sorted([node_value[card_a], node_value[card_b]])),
            "kept_with": node_value[kept_card],
            "source": source[first] if in_record else MEMBERS_SOURCE,
            "row": int(row[first]) if in_record else 0,
            "resolution": str(Text(
                f"未合并: 该{KEY_LABELS[node_type[key_node]].zh}归 {node_value[kept_card]}; "
                f"{'该行保留其会员卡 ' + node_value[other_card] if in_record else ''}",
                f"not merged: the {KEY_LABELS[node_type[key_node]].en} stays with {node_value[kept_card]}"
                f"{'; the row keeps its card ' + node_value[other_card] if in_record else ''}",
            )),
        })
    conflict_table = pd.DataFrame(rows, columns=["key_type", "_value", "cards", "kept_with", "source", "row",
                                                 "resolution"])
    conflict_table.insert(1, "key", _display(conflict_table["key_type"], conflict_table["_value"], pseudonymizer))
    conflict_table = conflict_table.drop(columns=["_value"]).astype({"row": "int64"})
    return Identity(customer_id=customer, keys=key_table, conflicts=conflict_table)
