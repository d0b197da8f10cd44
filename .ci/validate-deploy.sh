#!/usr/bin/env bash
# Validates the deployment files (issue 14) offline, with tools from PyPI and Debian only:
# - yamllint (strict, deploy/yamllint.yaml) on compose.yaml and deploy/;
# - kubernetes-validate (its schemas ship inside the package) on deploy/k8s, strict, against the
#   oldest Kubernetes the manifests claim (1.30: the preStop sleep action) and the newest it has;
# - compose.yaml against the Compose Specification schema that check-jsonschema bundles, and
#   through Debian's docker-compose (`config`: interpolation, references; no daemon needed);
# - deploy/check_invariants.py: what must agree across files (ports, grace periods, the proxy's
#   address, the health routes in the server's source, each pod's security settings).
# Exits non-zero at the first file that fails.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/validate-deploy/venv
if [ ! -x "$venv/bin/pip" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check \
    yamllint==1.38.0 kubernetes-validate==1.37.0 check-jsonschema==0.39.0
if ! command -v docker-compose >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi

echo "== yamllint"
"$venv/bin/yamllint" --strict -c deploy/yamllint.yaml compose.yaml deploy/

echo "== kubernetes-validate"
# With --quiet it prints only warnings and failures. A warning fails too: an apiVersion or kind it
# has no schema for (a removed API, a typo) is only a warning to it, and nothing is checked.
for version in 1.30.0 1.37.0; do
    report=$("$venv/bin/kubernetes-validate" --strict --quiet -k "$version" deploy/k8s/*.yaml 2>&1) || {
        echo "$report"
        exit 1
    }
    if [ -n "$report" ]; then
        echo "$report"
        exit 1
    fi
done

echo "== compose-spec schema"
"$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml

echo "== docker-compose config"
# Placeholders for the secrets the file requires; every profile, so the optional one is read too.
POSTGRES_PASSWORD=placeholder PWD_KEY=placeholder \
    docker-compose --file compose.yaml --profile tracing config --quiet

echo "== invariants"
"$venv/bin/python" deploy/check_invariants.py

echo "deploy files: valid"
