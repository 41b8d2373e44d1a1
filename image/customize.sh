#!/bin/bash
# image/customize.sh ROOT — installs zonegate into the image root (mmdebstrap customize
# hook; env ZG_BIN, ZG_MODEL, ZG_REPO). Everything the appliance adds to Debian is here.
set -euo pipefail
R=${1:?root}
I=$ZG_REPO/image

install -D -m 0755 "$ZG_BIN" "$R/usr/bin/zonegate"
install -D -m 0755 "$I/zonegate-firstboot" "$R/usr/lib/zonegate/zonegate-firstboot"
for u in zonegate.service zonegate-firstboot.service zonegate-crl.service zonegate-crl.timer; do
    install -D -m 0644 "$I/$u" "$R/usr/lib/systemd/system/$u"
done
install -D -m 0644 "$I/sysusers.d/zonegate.conf" "$R/usr/lib/sysusers.d/zonegate.conf"
install -D -m 0644 "$I/tmpfiles.d/zonegate.conf" "$R/usr/lib/tmpfiles.d/zonegate.conf"
install -D -m 0644 "$ZG_REPO/udev/70-zonegate-gpu.rules" "$R/usr/lib/udev/rules.d/70-zonegate-gpu.rules"
install -D -m 0644 "$ZG_REPO/README.md" "$R/usr/share/doc/zonegate/README.md"
install -D -m 0644 "$ZG_REPO/LICENSE" "$R/usr/share/doc/zonegate/LICENSE"

# Account and directories now, so ownership is right before the first boot.
chroot "$R" systemd-sysusers
chroot "$R" systemd-tmpfiles --create /usr/lib/tmpfiles.d/zonegate.conf
gid=$(chroot "$R" getent group zonegate | cut -d: -f3) # the image's, not the build host's
install -m 0640 -o 0 -g "$gid" "$I/zonegate.toml" "$R/etc/zonegate/zonegate.toml"
install -m 0640 -o 0 -g "$gid" "$ZG_MODEL" "$R/var/lib/zonegate/models/$(basename "$ZG_MODEL")"
# The binary must accept the image's config: the only complaints allowed are the PKI files
# that first boot creates (this also catches a stale binary from a shared target dir).
if problems=$(chroot "$R" /usr/bin/zonegate --config /etc/zonegate/zonegate.toml check-config 2>&1); then :; fi
if printf '%s\n' "$problems" | grep -v 'configuration error' | grep -v 'not found' | grep -q .; then
    echo "image/zonegate.toml is not accepted by $ZG_BIN:" >&2
    printf '%s\n' "$problems" >&2
    exit 1
fi

# Network: DHCP (v4 and v6) on every wired interface; names and resolver from systemd.
cat >"$R/etc/systemd/network/80-zonegate-wired.network" <<'NET'
[Match]
Type=ether
Name=en* eth*

[Network]
DHCP=yes
NET
echo zonegate >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tzonegate\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf 'LABEL=zg-root\t/\text4\tdefaults,errors=remount-ro\t0\t1\n' >"$R/etc/fstab"

chroot "$R" systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
    zonegate-firstboot.service zonegate.service zonegate-crl.timer
# An appliance in a server room does not fetch package lists on its own.
chroot "$R" systemctl mask apt-daily.timer apt-daily-upgrade.timer
# Wait for an address before first boot names it in the server certificate.
chroot "$R" systemctl enable systemd-networkd-wait-online.service
# The journal is the log (persistent, bounded).
mkdir -p "$R/var/log/journal" "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=persistent\nSystemMaxUse=512M\n' >"$R/etc/systemd/journald.conf.d/zonegate.conf"

# No password login at all (root is locked); a fresh machine-id on first boot.
chroot "$R" passwd -l root >/dev/null
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
# Initramfs with what real disks and virtual machines need (nvme, ahci, virtio, usb).
echo 'MODULES=most' >"$R/etc/initramfs-tools/conf.d/zonegate"
chroot "$R" update-initramfs -u -k all >/dev/null
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"* "$R/tmp/"*
