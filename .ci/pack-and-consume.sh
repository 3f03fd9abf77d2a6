#!/usr/bin/env bash
# Package check: builds the solution in Release (warnings are errors), packs every project under src/ into
# artifacts/packages, checks each gave a .nupkg and a .snupkg with complete metadata, and then uses the StartTls.Smtp
# package the way a user does: a fresh console project restores it from that folder (found by path; the machine's
# default source still serves its dependencies), runs a server with its own message store on loopback, receives one
# message from swaks and stops on SIGTERM. Runs as root on a fresh Debian machine with the .NET 10 SDK (called by .ci/run).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

work=""
consumer_pid=""
fail() {
    echo "pack-and-consume: FAILED: $*" >&2
    if [[ -n "$work" && -f "$work/consumer.log" ]]; then
        echo "---- consumer output ----" >&2
        cat "$work/consumer.log" >&2
        echo "-------------------------" >&2
    fi
    exit 1
}

missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v swaks >/dev/null || missing+=(swaks)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -ne 0 ]]; then
        fail "missing ${missing[*]} (install them, or run as root to have them installed)"
    fi
    echo "== pack-and-consume: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

work=$(mktemp -d -t starttls-pack.XXXXXX)
cleanup() {
    if [[ -n "$consumer_pid" ]] && kill -0 "$consumer_pid" 2>/dev/null; then
        kill -KILL "$consumer_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== pack-and-consume: building the solution in Release"
dotnet build StartTls.Smtp.sln -c Release -v q -nologo -clp:NoSummary

packages="$repo/artifacts/packages"
rm -rf "$packages"
mkdir -p "$packages"

# Every project under src/ is a package (src/Directory.Build.props); a project added later is packed and checked too.
declare -A versions=()
for project in src/*/*.csproj; do
    [[ -e "$project" ]] || fail "no project under src/"
    read -r id version < <(dotnet msbuild "$project" -nologo -getProperty:PackageId -getProperty:PackageVersion \
        | python3 -c 'import json, sys; p = json.load(sys.stdin)["Properties"]; print(p["PackageId"], p["PackageVersion"])')
    [[ -n "${id:-}" && -n "${version:-}" ]] || fail "could not read the PackageId and PackageVersion of $project"
    echo "== pack-and-consume: packing $project as $id $version"
    dotnet pack "$project" -c Release --no-build -v q -nologo -clp:NoSummary -o "$packages"

    nupkg="$packages/$id.$version.nupkg"
    snupkg="$packages/$id.$version.snupkg"
    [[ -f "$nupkg" ]] || fail "$project produced no $(basename "$nupkg")"
    [[ -f "$snupkg" ]] || fail "$project produced no symbol package $(basename "$snupkg")"
    # The listing is read whole before it is searched: `unzip -l | grep -q` under pipefail fails at random, because
    # grep -q exits at its first match and unzip, still writing the listing's footer, dies of SIGPIPE.
    listing=$(unzip -l "$snupkg") || fail "$(basename "$snupkg") is not a readable zip"
    grep -q '\.pdb$' <<<"$listing" || fail "$(basename "$snupkg") holds no PDB"

    nuspec=$(unzip -p "$nupkg" "$id.nuspec") || fail "$(basename "$nupkg") has no $id.nuspec"
    for pattern in "<id>$id</id>" "<version>$version</version>" '<authors>[^<]+</authors>' '<description>[^<]+' \
        '<tags>[^<]+</tags>' '<license type="expression">[^<]+</license>' '<readme>[^<]+</readme>' \
        '<icon>[^<]+</icon>' '<releaseNotes>[^<]+'; do
        grep -Eq "$pattern" <<<"$nuspec" || fail "the nuspec of $(basename "$nupkg") lacks $pattern"
    done
    # The readme and icon the nuspec names are in the package.
    for element in readme icon; do
        file=$(sed -nE "s|.*<$element>([^<]+)</$element>.*|\1|p" <<<"$nuspec")
        unzip -l "$nupkg" "$file" >/dev/null || fail "$(basename "$nupkg") names $element $file but does not hold it"
    done
    versions[$id]=$version
done

[[ -n "${versions[StartTls.Smtp]:-}" ]] || fail "no StartTls.Smtp package was packed"
version=${versions[StartTls.Smtp]}

echo "== pack-and-consume: a fresh console project uses StartTls.Smtp $version from $packages"
app="$work/app"
dotnet new console -o "$app" -n Consumer --no-restore >/dev/null
# The local folder is added by path next to the machine's default source (no <clear/>): the package comes from here,
# its dependencies from there. An empty package cache, so a cached StartTls.Smtp of the same version is never used.
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="starttls-local" value="$packages" />
  </packageSources>
</configuration>
EOF
export NUGET_PACKAGES="$work/nuget-packages"
cp .ci/consumer/Program.cs "$app/Program.cs"
(cd "$app" && dotnet add package StartTls.Smtp --version "$version" >"$work/add-package.log" 2>&1) \
    || { cat "$work/add-package.log" >&2; fail "dotnet add package StartTls.Smtp --version $version failed"; }

# The restored package is the one packed above, byte for byte (NuGet keeps its SHA-512 next to it).
restored=$(cat "$NUGET_PACKAGES/starttls.smtp/$version/starttls.smtp.$version.nupkg.sha512")
packed=$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' \
    "$packages/StartTls.Smtp.$version.nupkg")
[[ "$restored" == "$packed" ]] || fail "the restored StartTls.Smtp $version is not the package packed here"

# The consumer's build treats warnings (the compiler's and NuGet's) as errors: the package must not cause any.
dotnet build "$app" -c Release -v q -nologo -clp:NoSummary -p:TreatWarningsAsErrors=true -o "$work/bin"

received="$work/received"
token="pack-and-consume-$$-$RANDOM$RANDOM"
(cd "$work" && exec dotnet "$work/bin/Consumer.dll" "$received") >"$work/consumer.log" 2>&1 &
consumer_pid=$!

# Waits for "listening PORT" (the server picked a free loopback port): at most 30 s.
port=""
for _ in $(seq 1 300); do
    kill -0 "$consumer_pid" 2>/dev/null || fail "the consumer exited before listening"
    port=$(sed -nE 's/^listening ([0-9]+)$/\1/p' "$work/consumer.log")
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "$port" ]] || fail "the consumer did not start listening within 30 s"

echo "== pack-and-consume: delivering one message to the consumer on 127.0.0.1:$port (swaks)"
if ! timeout 60 swaks --server "127.0.0.1:$port" --from a@c.test --to b@s.test --body "$token" >"$work/swaks.log" 2>&1; then
    cat "$work/swaks.log" >&2
    fail "swaks could not deliver to the consumer"
fi
[[ -f "$received/message-1.eml" ]] || fail "the consumer's store wrote no message-1.eml"
grep -q "$token" "$received/message-1.eml" || fail "the stored message does not hold the body that was sent"

kill -TERM "$consumer_pid"
for _ in $(seq 1 300); do
    kill -0 "$consumer_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$consumer_pid" 2>/dev/null && fail "the consumer did not exit within 30 s of SIGTERM"
set +e
wait "$consumer_pid"
status=$?
set -e
consumer_pid=""
((status == 0)) || fail "the consumer exited with $status after SIGTERM, expected 0"
grep -qx stopped "$work/consumer.log" || fail "the consumer did not stop its server"

echo "== pack-and-consume: passed (${!versions[*]} packed with symbols and metadata; StartTls.Smtp $version restored from the local folder and served a message)"
