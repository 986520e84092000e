#!/bin/sh
# SIP and SDP need a concrete address, not 0.0.0.0: default to the container's own.
set -e
addr="$(hostname -i 2>/dev/null | awk '{print $1}')"
export HOTLINE_SIP__HOST="${HOTLINE_SIP__HOST:-$addr}"
export HOTLINE_MEDIA__RTP_HOST="${HOTLINE_MEDIA__RTP_HOST:-$addr}"
export HOTLINE_HTTP__HOST="${HOTLINE_HTTP__HOST:-0.0.0.0}"
export HOTLINE_STORE__URL="${HOTLINE_STORE__URL:-sqlite:////data/hotline.db}"
exec "$@"
