#!/usr/bin/env bash
# Build memoview's one-folder desktop bundle with PyInstaller (and an AppImage of it where appimagetool exists).
#   bash packaging/build.sh                       # uses .venv/bin/python, or $PYTHON
#   MEMOVIEW_BUNDLE_DEMO_MODEL=0 bash packaging/build.sh   # without the demo model (~250 MB less)
#   bash packaging/build.sh --package-only        # no PyInstaller run: check, size and package dist/memoview as is
#   APPIMAGETOOL=/path/to/appimagetool bash packaging/build.sh   # an appimagetool that is not on PATH
# Output: dist/memoview/ (run dist/memoview/memoview), and dist/memoview-<version>-x86_64.AppImage on Linux when
# appimagetool is available. Prints the bundle's size.
set -euo pipefail
cd "$(dirname "$0")/.."
package_only=0
for arg in "$@"; do
  case "$arg" in
    --package-only) package_only=1 ;;
    *) echo "error: unknown option $arg" >&2; echo "hint: bash packaging/build.sh [--package-only]" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi
version=$("$python" -c "import memoview; print(memoview.__version__)")
if [ "$package_only" = 1 ]; then
  if [ ! -x dist/memoview/memoview ]; then
    echo "error: --package-only needs a built bundle in dist/memoview/, and there is none." >&2
    echo "hint: bash packaging/build.sh" >&2
    exit 2
  fi
else
  if ! "$python" -c "import PyInstaller" 2>/dev/null; then
    echo "error: PyInstaller is not installed for $python." >&2
    echo "hint: $python -m pip install 'pyinstaller>=6.10'   (or: pip install -e '.[bundle]')" >&2
    exit 2
  fi
  workdir=${MEMOVIEW_BUILD_DIR:-build/pyinstaller}
  started=$(date +%s)
  "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath "$workdir" --distpath dist packaging/memoview.spec
  echo "bundle: dist/memoview/ built in $(( $(date +%s) - started )) s"
fi

# Sanity: no CUDA library or test package made it in.
leaked=$(find dist/memoview -regextype posix-extended \
  \( -iregex '.*/(libcudnn|libnccl|libcublas|libcusparse|libcufft|libcurand|libcusolver|libtorch_cuda)[^/]*' \
     -o -path '*/_pytest/*' -o -path '*/hypothesis/*' -o -path '*/pytestqt/*' \) -print | head -5)
if [ -n "$leaked" ]; then
  echo "error: the bundle contains files it must not ship:" >&2
  echo "$leaked" >&2
  exit 1
fi

if [ "$(uname -s)" = "Linux" ]; then
  appimagetool=${APPIMAGETOOL:-$(command -v appimagetool || true)}
  if [ -n "$appimagetool" ] && [ -x "$appimagetool" ]; then
    appdir=build/memoview.AppDir
    rm -rf "$appdir" && mkdir -p "$appdir/usr/bin"
    cp -a dist/memoview/. "$appdir/usr/bin/"
    cp memoview/resources/icons/memoview.svg "$appdir/memoview.svg"
    sed 's#^Exec=.*#Exec=memoview gui %f#' memoview/resources/desktop/memoview.desktop > "$appdir/memoview.desktop"
    printf '#!/bin/sh\nexec "$(dirname "$(readlink -f "$0")")/usr/bin/memoview" "$@"\n' > "$appdir/AppRun"
    chmod +x "$appdir/AppRun"
    # appimagetool is itself an AppImage: APPIMAGE_EXTRACT_AND_RUN lets it run where FUSE is missing.
    ARCH=x86_64 APPIMAGE_EXTRACT_AND_RUN=1 "$appimagetool" "$appdir" "dist/memoview-${version}-x86_64.AppImage"
    echo "AppImage: dist/memoview-${version}-x86_64.AppImage ($(du -sh "dist/memoview-${version}-x86_64.AppImage" | cut -f1))"
    echo "  run it without FUSE: dist/memoview-${version}-x86_64.AppImage --appimage-extract-and-run --version"
  else
    echo "note: no AppImage was made: appimagetool is not on PATH (nor named by APPIMAGETOOL)."
    echo "  appimagetool and the AppImage runtime it embeds come only from the AppImage project's GitHub releases;"
    echo "  PyPI, Debian and npm do not provide them (the AppImage builders there download them from GitHub at"
    echo "  build time; see packaging/README.md). The one-folder bundle dist/memoview/ is complete without it."
  fi
fi
size=$(du -sh dist/memoview | cut -f1)
files=$(find dist/memoview -type f | wc -l)
echo "bundle size: ${size} in ${files} files (dist/memoview/); run it with dist/memoview/memoview"
