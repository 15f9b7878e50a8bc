"""A perceptual hash of a page (dHash, 64 bits): near-identical pages (the same invoice scanned or
photographed twice) have hashes a few bits apart. numpy only, so every floor may use it: the
pipeline computes it, the results store compares it (results.duplicates)."""
from __future__ import annotations

import numpy as np

HASH_ROWS, HASH_COLS = 8, 9  # 8 rows of 9 cells: 8 left-right comparisons per row = 64 bits
GRAY_WEIGHTS_BGR = (0.114, 0.587, 0.299)  # ITU-R BT.601 luma, in OpenCV's channel order


def _cell_means(gray: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of each cell of a rows x cols grid over the image (area average, like cv2.INTER_AREA)."""
    h, w = gray.shape
    if h < rows or w < cols:  # a tiny image: repeat its pixels so that every cell has one
        gray = np.repeat(np.repeat(gray, -(-rows // h), axis=0), -(-cols // w), axis=1)
        h, w = gray.shape
    r_edges = np.linspace(0, h, rows + 1).astype(int)[:-1]
    c_edges = np.linspace(0, w, cols + 1).astype(int)[:-1]
    sums = np.add.reduceat(np.add.reduceat(gray, r_edges, axis=0), c_edges, axis=1)
    counts = np.outer(np.diff(np.append(r_edges, h)), np.diff(np.append(c_edges, w)))
    return sums / counts


def dhash(image: np.ndarray) -> str:
    """The 64-bit difference hash of an image (gray, BGR or BGRA uint8), as 16 hex digits.

    Each bit says whether a cell of an 8x9 grid of mean brightness is brighter than its right-hand neighbour.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = img[..., :3] @ np.array(GRAY_WEIGHTS_BGR) if img.shape[2] >= 3 else img[..., 0]
    cells = _cell_means(img, HASH_ROWS, HASH_COLS)
    bits = (cells[:, 1:] > cells[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hamming(a: str, b: str) -> int:
    """How many of the 64 bits two dhash hex strings differ by."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
