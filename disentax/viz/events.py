"""Scalars read back from the TensorBoard event files of a run (TFRecord-framed Event protos)."""

import pathlib
import struct

import numpy as np
from tensorboardX.proto.event_pb2 import Event

HEADER, FOOTER = 12, 4  # uint64 length + its masked CRC32; the record's masked CRC32


def read_scalars(logdir: pathlib.Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`{tag: (steps [T], values [T])}` of every scalar in the `events.out.tfevents.*` files
    directly in `logdir` (in file-name order, i.e. by creation time; a later value at the same
    step replaces an earlier one, as after a resumed run; sorted by step). A file cut short by a
    killed writer yields the records before the cut. CRCs are not checked."""
    series: dict[str, dict[int, float]] = {}
    for path in sorted(pathlib.Path(logdir).glob("events.out.tfevents.*")):
        raw, offset = path.read_bytes(), 0
        while offset + HEADER <= len(raw):
            (length,) = struct.unpack("<Q", raw[offset : offset + 8])
            end = offset + HEADER + length
            if end + FOOTER > len(raw):
                break
            event = Event.FromString(raw[offset + HEADER : end])
            offset = end + FOOTER
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    series.setdefault(value.tag, {})[event.step] = value.simple_value
    return {
        tag: (np.array(sorted(points)), np.array([points[s] for s in sorted(points)]))
        for tag, points in series.items()
    }
