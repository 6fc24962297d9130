#!/usr/bin/env bash
# The Debian package installs and runs (docs/operations.md, "Installing the
# package"): CPack builds it from this build, dpkg installs it into an empty
# root made here (dpkg --root, no maintainer scripts needed), and the
# installed command line, on the installed library only, prints its version
# and creates a store. The package holds what it promises: the library and
# its headers with the CMake package, man pages, and a hardened systemd unit.
#
#   install_test.sh BUILD_DIR
set -euo pipefail
build="${1:?usage: install_test.sh BUILD_DIR}"
work=$(mktemp -d /tmp/hearth-package-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The package, from this build's install rules.
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack could not build the package"; }
deb=$(ls "$work"/out/hearth_*.deb 2>/dev/null | head -n 1)
[[ -f "$deb" ]] || fail "no hearth_*.deb in $work/out"
echo "package: $(basename "$deb"), $(du -h "$deb" | cut -f1)"

# 2. Its control data: a name, a version, dependencies found by dpkg-shlibdeps.
control=$(dpkg-deb -f "$deb")
grep -q '^Package: hearth$' <<<"$control" || fail "package name"
grep -q '^Version: ' <<<"$control" || fail "no version"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in librocksdb libsodium libssl libcapnp; do
  grep -q "$lib" <<<"$depends" || fail "Depends does not name $lib: $depends"
done

# 3. Installed into an empty root by dpkg itself.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null \
  -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
dpkg --root="$root" -s hearth | grep -q '^Status: install ok installed$' || fail "dpkg does not list hearth as installed"

# The library's directory: /usr/lib, or the multiarch one below it.
libdir=$(dirname "$(find "$root/usr/lib" -name libhearth.so.0 | head -n 1)")
[[ "$libdir" == "$root/usr/lib"* ]] || fail "the package does not install libhearth.so.0 under /usr/lib"
for f in usr/bin/hearth \
         "${libdir#$root/}/libhearth.so.0" \
         usr/include/hearth/store.h \
         "${libdir#$root/}/cmake/hearth/hearthConfig.cmake" \
         usr/share/man/man1/hearth.1.gz \
         usr/share/man/man1/hearth-serve.1.gz \
         usr/share/man/man1/hearth-sar.1.gz \
         usr/lib/systemd/system/hearth.service \
         usr/share/doc/hearth/operations.md; do
  [[ -e "$root/$f" ]] || fail "the package does not install /$f"
done
gzip -t "$root/usr/share/man/man1/hearth.1.gz" || fail "hearth.1.gz is not gzip"
zcat "$root/usr/share/man/man1/hearth-erase.1.gz" | grep -q 'crypto' || fail "hearth-erase(1) does not describe erase"

# 4. The binaries were made for their installed place: no path into the build.
for f in "$root/usr/bin/hearth" "$libdir/libhearth.so.0"; do
  if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -q "$build"; then
    fail "$f still looks for libraries in the build tree"
  fi
done

# 5. The unit's hardening.
unit="$root/usr/lib/systemd/system/hearth.service"
for line in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
            DynamicUser=yes StateDirectory=hearth; do
  grep -qx "$line" "$unit" || fail "hearth.service lacks $line"
done
grep -q '^ExecStart=/usr/bin/hearth serve ' "$unit" || fail "hearth.service does not start hearth serve"

# 6. It runs from there, on the installed library (and the system's).
export LD_LIBRARY_PATH="$libdir"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
hearth="$root/usr/bin/hearth"
version=$("$hearth" --version) || fail "hearth --version"
grep -q '^hearth [0-9]' <<<"$version" || fail "unexpected version line: $version"
echo "installed: $version"
loaded=$(ldd "$hearth" | sed -n 's/.*libhearth\.so\.0 => \([^ ]*\).*/\1/p')
[[ "$loaded" == "$libdir/libhearth.so.0" ]] ||
  fail "the installed hearth loads libhearth from '$loaded', not from the package"
"$hearth" init --data "$work/store" --key-file "$work/root.key" >"$work/init.log" 2>&1 ||
  { cat "$work/init.log" >&2; fail "hearth init from the installed package"; }
"$hearth" info --data "$work/store" --key-file "$work/root.key" >"$work/info.log" 2>&1 ||
  { cat "$work/info.log" >&2; fail "hearth info on the new store"; }
echo "PASS: installed into $root, ran --version, init and info"
