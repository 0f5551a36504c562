#!/usr/bin/env bash
# A small EventSource client in bash, over HTTP/1.0 on /dev/tcp, for the tests of
# `sse conformance client`. It reads lines split on LF only, follows no redirects
# and knows one content type spelling: the judge fails it on those cases. Each flag
# breaks one more rule, so that a test can check that the judge names exactly the
# cases for that rule:
#   --empty-id      on a reconnection, send Last-Event-ID even when the ID is empty
#   --early         reconnect at once, whatever the stream's retry
#   --keep-partial  when the body ends mid-event, dispatch the unfinished event
# Usage: naive-client.sh [FLAGS] http://HOST:PORT/PATH
empty_id='' early='' keep_partial=''
while [ $# -gt 1 ]; do
  case $1 in
    --empty-id) empty_id=1 ;;
    --early) early=1 ;;
    --keep-partial) keep_partial=1 ;;
  esac
  shift
done
rest=${1#http://}
rest=${rest%%#*}
authority=${rest%%/*}
path=/${rest#*/}
[ "$authority" = "$rest" ] && path=/
host=${authority%:*} port=${authority##*:}

esc() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  printf '%s' "$s"
}

last_id='' retry=3000 reconnection=''
data='' has_data='' type='' id_buffer=''
dispatch() {
  last_id=$id_buffer
  if [ -n "$has_data" ]; then
    printf '{"type":"%s","data":"%s","id":"%s"}\n' \
      "$(esc "${type:-message}")" "$(esc "${data%$'\n'}")" "$(esc "$last_id")"
  fi
  data='' has_data='' type=''
}
field() {
  local line=$1 name value
  case $line in
    :*) return ;;
    *:*) name=${line%%:*} value=${line#*:} value=${value# } ;;
    *) name=$line value='' ;;
  esac
  case $name in
    data) data+="$value"$'\n' has_data=1 ;;
    id) id_buffer=$value ;;
    event) type=$value ;;
    retry) [[ $value =~ ^[0-9]+$ ]] && retry=$value ;;
  esac
}

while :; do
  exec 3<>"/dev/tcp/$host/$port" || exit 1
  {
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n' "$path" "$authority"
    printf 'Accept: text/event-stream\r\nCache-Control: no-cache\r\n'
    if [ -n "$last_id" ] || { [ -n "$empty_id" ] && [ -n "$reconnection" ]; }; then
      printf 'Last-Event-ID: %s\r\n' "$last_id"
    fi
    printf '\r\n'
  } >&3
  reconnection=1
  IFS= read -r status <&3
  code=${status#* } code=${code%% *}
  content_type=''
  while IFS= read -r header <&3; do
    header=${header%$'\r'}
    [ -z "$header" ] && break
    case ${header,,} in
      content-type:*) content_type=${header#*:} content_type=${content_type# } ;;
    esac
  done
  if [ -n "$status" ] && { [ "$code" != 200 ] || [ "$content_type" != text/event-stream ]; }; then
    printf '{"error":"status %s, content type %s"}\n' "$code" "$(esc "$content_type")"
    exit 1
  fi
  if [ -n "$status" ]; then
    data='' has_data='' type='' id_buffer=$last_id
    while IFS= read -r line <&3; do
      if [ -z "$line" ]; then dispatch; else field "$line"; fi
    done
    if [ -n "$keep_partial" ]; then
      [ -n "$line" ] && field "$line"
      dispatch
    fi
  fi
  exec 3<&-
  printf '{"error":"reconnecting"}\n'
  [ -n "$early" ] || sleep "$((retry / 1000)).$(printf '%03d' $((retry % 1000)))"
done
