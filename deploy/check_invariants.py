"""What the schemas cannot see in compose.yaml and deploy/k8s: references between services and
objects, values that must agree across files (ports, grace periods, the proxy's address, the
health routes in the server's source), and the security settings every pod must keep.

Run from the repository root; prints each problem and exits 1 if there is any."""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(".")
PROBLEMS = []


def expect(condition, problem):
    if not condition:
        PROBLEMS.append(problem)


def seconds(duration):
    """Compose durations as used here: "15s", "1m", or a bare number of seconds."""
    match = re.fullmatch(r"(\d+)(s|m)?", str(duration))
    if match is None:
        raise ValueError(f"unexpected duration {duration!r}")
    return int(match[1]) * (60 if match[2] == "m" else 1)


def listen_port(env):
    return int(env["LISTEN_ADDR"].rsplit(":", 1)[1])


def check_compose():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    networks = set(compose.get("networks") or {})
    volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for needed in service.get("depends_on") or {}:
            expect(needed in services, f"compose: {name} depends on unknown service {needed}")
        for network in service.get("networks") or []:
            expect(network in networks, f"compose: {name} uses undeclared network {network}")
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith("./"):
                expect((ROOT / source).is_file(), f"compose: {name} mounts missing file {source}")
            else:
                expect(source in volumes, f"compose: {name} uses undeclared volume {source}")
        build = service.get("build")
        if build:
            containerfile = ROOT / build["context"] / build.get("dockerfile", "Dockerfile")
            expect(containerfile.is_file(), f"compose: {name} builds from missing {containerfile}")

    instances = {name: s for name, s in services.items() if s.get("command") == ["serve"]}
    expect(len(instances) >= 2, "compose: fewer than two web-server instances")
    proxy_address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    nginx = (ROOT / "deploy/compose/nginx.conf").read_text()
    for name, service in instances.items():
        env = service["environment"]
        expect(env["MIGRATE_ON_START"] == "false", f"compose: {name} migrates on start")
        expect(
            (service["depends_on"].get("migrate") or {}).get("condition") == "service_completed_successfully",
            f"compose: {name} does not wait for the migrate step",
        )
        expect(env["TRUSTED_PROXIES"] == proxy_address, f"compose: {name} does not trust the proxy's address")
        expect(
            seconds(service["stop_grace_period"]) > int(env["SHUTDOWN_GRACE_SEC"]),
            f"compose: {name} stop_grace_period is not above SHUTDOWN_GRACE_SEC",
        )
        expect(
            re.search(rf"server {name}:{listen_port(env)}\b", nginx) is not None,
            f"compose: nginx.conf does not proxy to {name}:{listen_port(env)}",
        )
        expect("pgbouncer:" in env["DATABASE_URL"], f"compose: {name}'s pool does not go through PgBouncer")
        expect(
            env.get("DATABASE_POOL_MODE") == "transaction",
            f"compose: {name}'s pool goes through a transaction-pooling PgBouncer without DATABASE_POOL_MODE=transaction",
        )
        expect("@postgres:" in env["DATABASE_LISTEN_URL"], f"compose: {name}'s LISTEN does not go direct")
    expect(
        "@postgres:" in services["migrate"]["environment"]["DATABASE_URL"],
        "compose: the migrate step does not go to Postgres directly",
    )


def load_k8s():
    objects = {}
    for path in sorted((ROOT / "deploy/k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def check_pod(owner, pod, objects):
    context = pod.get("securityContext") or {}
    expect(context.get("runAsNonRoot") is True, f"k8s: {owner} may run as root")
    expect((context.get("seccompProfile") or {}).get("type") == "RuntimeDefault", f"k8s: {owner} lacks seccomp")
    expect(pod.get("automountServiceAccountToken") is False, f"k8s: {owner} mounts an API token")
    for container in pod["containers"]:
        where = f"{owner}/{container['name']}"
        sc = container.get("securityContext") or {}
        expect(sc.get("readOnlyRootFilesystem") is True, f"k8s: {where} root file system is writable")
        expect(sc.get("allowPrivilegeEscalation") is False, f"k8s: {where} allows privilege escalation")
        expect((sc.get("capabilities") or {}).get("drop") == ["ALL"], f"k8s: {where} keeps capabilities")
        expect("limits" in (container.get("resources") or {}), f"k8s: {where} has no resource limits")
        for source in container.get("envFrom") or []:
            name = source["configMapRef"]["name"]
            expect(("ConfigMap", name) in objects, f"k8s: {where} reads unknown ConfigMap {name}")
        for variable in container.get("env") or []:
            ref = (variable.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                secret = objects.get(("Secret", ref["name"]))
                expect(
                    secret is not None and ref["key"] in secret["stringData"],
                    f"k8s: {where} reads {ref['name']}/{ref['key']}, which the example Secret lacks",
                )


def check_k8s():
    objects = load_k8s()
    config = objects[("ConfigMap", "web-server-config")]["data"]
    deployment = objects[("Deployment", "web-server")]
    pod = deployment["spec"]["template"]["spec"]
    check_pod("Deployment/web-server", pod, objects)
    check_pod("Job/web-server-migrate", objects[("Job", "web-server-migrate")]["spec"]["template"]["spec"], objects)
    expect(config["MIGRATE_ON_START"] == "false", "k8s: the instances migrate on start beside the Job")

    container = pod["containers"][0]
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    expect(
        pod["terminationGracePeriodSeconds"] > pause + int(config["SHUTDOWN_GRACE_SEC"]),
        "k8s: terminationGracePeriodSeconds is not above the preStop pause plus SHUTDOWN_GRACE_SEC",
    )
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    expect(ports.get("http") == listen_port(config), "k8s: containerPort http is not LISTEN_ADDR's port")
    routes = (ROOT / "crates/web-server/src/routes/mod.rs").read_text()
    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
        probed = container[probe]["httpGet"]["path"]
        expect(probed == path, f"k8s: {probe} asks {probed}, not {path}")
        expect(f'.route("{probed}"' in routes, f"k8s: {probe} path {probed} is not a route of the server")

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Service": objects[("Service", "web-server")]["spec"]["selector"],
        "PodDisruptionBudget": objects[("PodDisruptionBudget", "web-server")]["spec"]["selector"]["matchLabels"],
        "Deployment": deployment["spec"]["selector"]["matchLabels"],
    }
    for kind, selector in selectors.items():
        expect(selector.items() <= labels.items(), f"k8s: the {kind}'s selector misses the pods")
    hpa = objects[("HorizontalPodAutoscaler", "web-server")]["spec"]
    expect(hpa["scaleTargetRef"]["name"] == "web-server", "k8s: the HPA scales something else")
    expect(hpa["minReplicas"] >= 2, "k8s: the HPA may scale below two instances")


if __name__ == "__main__":
    check_compose()
    check_k8s()
    for problem in PROBLEMS:
        print(problem, file=sys.stderr)
    if PROBLEMS:
        sys.exit(1)
    print("deploy invariants: ok")
