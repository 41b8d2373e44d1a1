#!/bin/bash
# image/boot-test.sh IMAGE — boots a throw-away copy of the appliance image under qemu and
# checks what an installer would: first boot creates the PKI and hands the admin bundle
# to a FAT stick labelled ZGEXPORT, zonegate.service reaches READY under its full sandbox,
# and /health answers the admin certificate over mutual TLS through a host port forward.
#
# KVM when /dev/kvm works, software emulation (TCG) otherwise. Bounded: BOOT_TIMEOUT
# seconds (default 900) for everything. Prints boot-to-ready seconds. Keeps the serial log
# in $OUT (default: next to the image) for diagnosis.
set -euo pipefail

IMG=$(realpath "${1:?image}")
OUT=${OUT:-$(dirname "$IMG")/boot-test}
TIMEOUT=${BOOT_TIMEOUT:-900}
PORT=${PORT:-18443}
OVMF=${OVMF:-/usr/share/ovmf/OVMF.fd}

rm -rf "$OUT"
mkdir -p "$OUT"
export MTOOLS_SKIP_CHECK=1

# A copy-on-write overlay: the image itself stays pristine.
qemu-img create -q -f qcow2 -F raw -b "$IMG" "$OUT/disk.qcow2"
# The installer's USB stick.
mkfs.vfat -C -n ZGEXPORT "$OUT/export.img" 16384 >/dev/null

accel=tcg
cpu=max
# KVM only when a guest actually runs for a few seconds without errors (nested KVM can fail
# on MSRs or with internal errors); ACCEL=tcg forces software emulation.
if [ "${ACCEL:-}" != tcg ] && [ -w /dev/kvm ]; then
    rc=0
    timeout 5 qemu-system-x86_64 -accel kvm -cpu host -M q35 -m 256 -nodefaults -display none -bios "$OVMF" \
        -serial none </dev/null >"$OUT/kvm-probe.log" 2>&1 || rc=$?
    if [ "$rc" = 124 ] && ! grep -qi error "$OUT/kvm-probe.log"; then accel=kvm cpu=host; fi
fi
echo "== booting $IMG under qemu ($accel)"

start=$(date +%s%N)
qemu-system-x86_64 -accel $accel -cpu $cpu -M q35 -m 2048 -smp 2 -nodefaults -display none \
    -bios "$OVMF" \
    -drive file="$OUT/disk.qcow2",format=qcow2,if=virtio \
    -drive file="$OUT/export.img",format=raw,if=virtio \
    -device virtio-rng-pci \
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:8443 -device virtio-net-pci,netdev=n0 \
    -serial file:"$OUT/serial.log" -pidfile "$OUT/qemu.pid" &
QEMU=$!
cleanup() { kill "$QEMU" 2>/dev/null || true; wait "$QEMU" 2>/dev/null || true; }
trap cleanup EXIT

elapsed() { local ms=$((($(date +%s%N) - start) / 1000000)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }
deadline=$(($(date +%s) + TIMEOUT))
wait_for() { # pattern in the serial log
    until grep -q "$1" "$OUT/serial.log" 2>/dev/null; do
        if ! kill -0 "$QEMU" 2>/dev/null; then echo "qemu exited; serial log:"; tail -50 "$OUT/serial.log"; exit 1; fi
        if [ "$(date +%s)" -ge "$deadline" ]; then echo "timeout waiting for '$1'; serial log:"; tail -50 "$OUT/serial.log"; exit 1; fi
        sleep 1
    done
}

wait_for "zonegate-firstboot: done"
echo "== first boot done after $(elapsed) s"
sleep 2 # the script has unmounted the stick; let the guest's block layer settle
for f in admin.crt admin.key ca.crt admin.p12 admin.p12.password; do
    mcopy -o -i "$OUT/export.img" "::$f" "$OUT/$f"
done

ok=
until [ "$(date +%s)" -ge "$deadline" ]; do
    if curl -sf --max-time 10 --cacert "$OUT/ca.crt" --cert "$OUT/admin.crt" --key "$OUT/admin.key" \
        "https://127.0.0.1:$PORT/health" -o "$OUT/health.json"; then
        ok=1
        break
    fi
    sleep 1
done
[ -n "$ok" ] || { echo "no /health over mTLS"; tail -50 "$OUT/serial.log"; exit 1; }
ready=$(elapsed)
echo "== zonegate READY: /health over mutual TLS after $ready s: $(cat "$OUT/health.json")"
# The API must refuse a client without a certificate.
if curl -sf --max-time 10 --cacert "$OUT/ca.crt" "https://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
    echo "FAIL: /health answered without a client certificate"
    exit 1
fi
echo "== refused without a client certificate: ok"
# A chat completion through the sandboxed service (llama.cpp under MemoryDenyWriteExecute).
curl -sf --max-time 300 --cacert "$OUT/ca.crt" --cert "$OUT/admin.crt" --key "$OUT/admin.key" \
    -H 'Content-Type: application/json' "https://127.0.0.1:$PORT/v1/chat/completions" \
    -d '{"model": "smollm2-135m", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8}' \
    -o "$OUT/chat.json" || { echo "FAIL: chat completion"; tail -50 "$OUT/serial.log"; exit 1; }
echo "== chat completion: $(cat "$OUT/chat.json")"
echo "PASS: boot to READY ${ready} s ($accel)"
