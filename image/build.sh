#!/bin/bash
# image/build.sh OUT_DIR BIN MODEL — the flashable zonegate appliance image (x86-64, UEFI).
#
# Debian stable (bookworm) from the Debian mirror with mmdebstrap, plus the zonegate binary,
# its units, sysusers/tmpfiles, udev rules, default config and the default model. No
# compilers, no root password, no SSH: the box is managed through the API/console and
# the admin bundle that first boot writes (see README, "The appliance").
#
# Output in OUT_DIR: zonegate.img (GPT: ESP with systemd-boot + kernel, ext4 root labelled
# zg-root), SHA256SUMS, and build.log. Needs root (mmdebstrap chroots), mmdebstrap,
# mtools, dosfstools, e2fsprogs, fdisk. Nothing is loop-mounted.
set -euo pipefail

OUT=${1:?OUT_DIR}
BIN=${2:?zonegate binary}
MODEL=${3:?model GGUF}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/work
ROOT=$WORK/rootfs
# REUSE_ROOT=1 keeps a root file system left by an earlier failed run (image work only).
if [ "${REUSE_ROOT:-}" != 1 ] || [ ! -d "$ROOT/usr/bin" ]; then
    rm -rf "$WORK"
fi
mkdir -p "$WORK"

PACKAGES=(
    systemd-sysv udev systemd-resolved systemd-timesyncd dbus
    linux-image-amd64 initramfs-tools systemd-boot-efi
    util-linux mount hostname iproute2 ca-certificates kmod
)
# No libgomp1/libstdc++6 for zonegate: its C++ and OpenMP runtimes are linked in (build.rs).

echo "== mmdebstrap $SUITE (${#PACKAGES[@]} packages)"
[ -d "$ROOT/usr/bin" ] || mmdebstrap --mode=root --variant=minbase --arch=amd64 \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="env ZG_BIN='$BIN' ZG_MODEL='$MODEL' ZG_REPO='$REPO' '$HERE/customize.sh' \"\$1\"" \
    "$SUITE" "$ROOT" "deb $MIRROR $SUITE main" "deb $MIRROR ${SUITE}-updates main" \
    "deb ${MIRROR}-security ${SUITE}-security main"

echo "== no compilers in the image"
if chroot "$ROOT" dpkg-query -W -f '${Package}\n' | grep -E '^(gcc|g\+\+|clang|cpp|rustc|cargo|make|binutils|cmake)(-[0-9.]+)?$'; then
    echo "compiler packages found in the image" >&2
    exit 1
fi

# --- partitions --------------------------------------------------------------------------
ESP_MB=256
ROOT_USED_MB=$(du -sm --exclude="$ROOT/boot" "$ROOT" | cut -f1)
ROOT_MB=$(((ROOT_USED_MB * 13 / 10) + 512)) # room for updates, logs and the first state
echo "== root file system: ${ROOT_USED_MB} MiB used, ${ROOT_MB} MiB partition"

KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*)")
ESP=$WORK/esp.img
rm -f "$ESP"
mkfs.vfat -C -F 32 -n ZG-ESP "$ESP" $((ESP_MB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/zonegate
mcopy -i "$ESP" "$ROOT/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$ESP" "$ROOT/boot/vmlinuz-$KVER" ::/zonegate/vmlinuz
mcopy -i "$ESP" "$ROOT/boot/initrd.img-$KVER" ::/zonegate/initrd.img
printf 'default zonegate.conf\ntimeout 0\nconsole-mode keep\n' >"$WORK/loader.conf"
printf 'title zonegate appliance (%s)\nlinux /zonegate/vmlinuz\ninitrd /zonegate/initrd.img\noptions root=LABEL=zg-root ro console=tty0 console=ttyS0,115200 quiet systemd.show_status=yes\n' "$KVER" >"$WORK/zonegate.conf"
mcopy -i "$ESP" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$ESP" "$WORK/zonegate.conf" ::/loader/entries/zonegate.conf

ROOTFS=$WORK/root.img
rm -f "$ROOTFS"
mkfs.ext4 -q -L zg-root -E root_owner=0:0 -d "$ROOT" "$ROOTFS" "${ROOT_MB}M"

# --- GPT disk ---------------------------------------------------------------------------
IMG=$OUT/zonegate.img
rm -f "$IMG"
START=2048 # sectors (1 MiB)
ESP_SECTORS=$((ESP_MB * 2048))
ROOT_START=$((START + ESP_SECTORS))
ROOT_SECTORS=$((ROOT_MB * 2048))
TOTAL=$((ROOT_START + ROOT_SECTORS + 2048))
truncate -s $((TOTAL * 512)) "$IMG"
sfdisk --quiet "$IMG" <<EOF
label: gpt
start=$START, size=$ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$ROOT_START, size=$ROOT_SECTORS, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="zg-root"
EOF
dd if="$ESP" of="$IMG" bs=1M seek=$((START / 2048)) conv=notrunc,sparse status=none
dd if="$ROOTFS" of="$IMG" bs=1M seek=$((ROOT_START / 2048)) conv=notrunc,sparse status=none
rm -rf "$WORK"
(cd "$OUT" && sha256sum zonegate.img >SHA256SUMS)
echo "== $IMG: $(du -h --apparent-size "$IMG" | cut -f1) ($(du -h "$IMG" | cut -f1) allocated), kernel $KVER"
