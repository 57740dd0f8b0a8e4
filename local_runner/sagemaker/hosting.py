"""Hosting: models, endpoint configurations, endpoints and the runtime's InvokeEndpoint.

An endpoint record keeps its `port`, picked free at CreateEndpoint and kept until DeleteEndpoint, with the
front that listens on it (`front`, front.py), so that its URL never changes; the fleet that serves is in
`local` ({pid, port, directory, url, config}), on a port of its own, and, during
a blue/green update, the new fleet in `green` with the share of traffic it takes (`weight`); InvokeEndpoint
routes by that share. A fleet whose server is starting (not yet healthy) is in `launching`, recorded as soon
as its process exists: whenever the runner ends, every server it started is on record for `stop`.
The update itself (traffic shifting, baking, auto-rollback) is in bluegreen.py.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from typing import Any

import httpx

from ..permissions import Principal, acting_as
from ..validation import ServiceError
from . import bluegreen, capture, endpoints, front, jobs, port_claims, prerequisites, variants
from .store import Store

SERVERLESS_PAYLOAD_LIMIT = 4 * 1024 * 1024  # developer guide, "Invoke a serverless endpoint"


class Hosting:
    """Mixed into LocalSageMaker (store, faults, workdir, code_dir, cloudwatch, capture and the plumbing are its)."""

    # -- models -------------------------------------------------------------------------
    def op_create_model(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ModelName"]
        if self.store.get("models", name) is not None:
            raise ServiceError(
                "ValidationException", f'Cannot create already existing model "{self.arn("model", name)}".'
            )
        if not p.get("PrimaryContainer") and not p.get("Containers"):
            raise ServiceError("ValidationException", "Either PrimaryContainer or Containers must be specified")
        arn = self.put_request("models", "model", name, p, arn_field="ModelArn", CreationTime=time.time())
        return {"ModelArn": arn}

    def op_describe_model(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.describe_record(self.model_record(p["ModelName"]), "DescribeModel")

    def op_delete_model(self, p: dict[str, Any]) -> dict[str, Any]:
        self.model_record(p["ModelName"])
        self.store.delete("models", p["ModelName"])
        return {}

    def model_record(self, name: str) -> dict[str, Any]:
        record = self.store.get("models", name)
        if record is None:
            raise ServiceError("ValidationException", f'Could not find model "{self.arn("model", name)}".')
        return record

    def model_container(self, model_name: str) -> tuple[str | None, str | None, dict[str, str]]:
        """(image, model data URL, environment) of a model's primary container (a registered package's too)."""
        model = self.model_record(model_name)
        container = model.get("PrimaryContainer") or model["Containers"][0]
        data_url = container.get("ModelDataUrl")
        if not data_url and container.get("ModelPackageName"):
            package = self.find_package(container["ModelPackageName"])
            if package:
                data_url = package["InferenceSpecification"]["Containers"][0].get("ModelDataUrl")
        return container.get("Image"), data_url, dict(container.get("Environment", {}))

    def model_role(self, model_name: str) -> str | None:
        """The execution role SageMaker acts as for a model: to fetch it, serve it and write its captures."""
        model = self.store.get("models", model_name) or {}
        return model.get("ExecutionRoleArn")

    def _config_role(self, config_name: str) -> str | None:
        config = self.store.get("endpoint_configs", config_name) or {"ProductionVariants": []}
        variant = max(config["ProductionVariants"], key=lambda v: v.get("InitialVariantWeight", 1.0), default={})
        return self.model_role(variant.get("ModelName", ""))

    # -- endpoint configurations -------------------------------------------------------------
    def op_create_endpoint_config(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["EndpointConfigName"]
        if self.store.get("endpoint_configs", name) is not None:
            raise ServiceError(
                "ValidationException",
                f'Cannot create already existing endpoint configuration "{self.arn("endpoint-config", name)}".',
            )
        variants.validate_config(p)
        for variant in p["ProductionVariants"]:
            if variant.get("ModelName"):
                self.model_record(variant["ModelName"])
        arn = self.put_request(
            "endpoint_configs", "endpoint-config", name, p, arn_field="EndpointConfigArn", CreationTime=time.time()
        )
        return {"EndpointConfigArn": arn}

    def op_describe_endpoint_config(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.describe_record(self._config_for(p["EndpointConfigName"]), "DescribeEndpointConfig")

    def op_delete_endpoint_config(self, p: dict[str, Any]) -> dict[str, Any]:
        self._config_for(p["EndpointConfigName"])
        self.store.delete("endpoint_configs", p["EndpointConfigName"])
        return {}

    def _config_for(self, config_name: str) -> dict[str, Any]:
        config = self.store.get("endpoint_configs", config_name)
        if config is None:
            raise ServiceError(
                "ValidationException",
                f'Could not find endpoint configuration "{self.arn("endpoint-config", config_name)}".',
            )
        return config

    # -- endpoints ------------------------------------------------------------------------------
    def _endpoint(self, name: str) -> dict[str, Any]:
        record = self.store.get("endpoints", name)
        if record is None:
            raise ServiceError("ValidationException", f'Could not find endpoint "{self.arn("endpoint", name)}".')
        return record

    def op_create_endpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["EndpointName"]
        if self.store.get("endpoints", name) is not None:
            raise ServiceError(
                "ValidationException", f'Cannot create already existing endpoint "{self.arn("endpoint", name)}".'
            )
        self._config_for(p["EndpointConfigName"])
        arn = self.arn("endpoint", name)
        now = time.time()
        record = {
            "EndpointName": name,
            "EndpointArn": arn,
            "EndpointConfigName": p["EndpointConfigName"],
            "EndpointStatus": "Creating",
            "CreationTime": now,
            "LastModifiedTime": now,
            # the endpoint's URL for as long as it exists, claimed against other processes' clouds
            "port": endpoints.stable_port(self._recorded_ports(), owner=self._port_owner()),
            "local": {},
        }
        self.store.put("endpoints", name, record)
        self.tag_resource(arn, p.get("Tags"))
        self.spawn(
            lambda: self._deploy(name, p["EndpointConfigName"], "create"),
            f"endpoint-{name}",
            role=self._config_role(p["EndpointConfigName"]),
        )
        return {"EndpointArn": arn}

    def op_update_endpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["EndpointName"]
        record = self._endpoint(name)
        if record["EndpointStatus"] not in ("InService", "Failed"):
            raise ServiceError("ValidationException", f'Cannot update in-progress endpoint "{record["EndpointArn"]}".')
        if record["EndpointStatus"] == "Failed" and not record.get("local", {}).get("pid"):
            raise ServiceError("ValidationException", f'Cannot update failed endpoint "{record["EndpointArn"]}".')
        config = self._config_for(p["EndpointConfigName"])
        current = self.store.get("endpoint_configs", record["EndpointConfigName"])
        if current is not None:
            variants.check_update(current, config)
        deployment = p.get("DeploymentConfig")
        if deployment is None and p.get("RetainDeploymentConfig"):
            deployment = record.get("LastDeploymentConfig")
        bluegreen.validate(deployment, current, config)
        self.store.update("endpoints", name, EndpointStatus="Updating", FailureReason=None)
        self.spawn(
            lambda: self._deploy(name, p["EndpointConfigName"], "update", deployment),
            f"endpoint-{name}",
            role=self._config_role(p["EndpointConfigName"]),
        )
        return {"EndpointArn": record["EndpointArn"]}

    def _start_fleet(self, name: str, config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Start the configuration's serving container (the heaviest variant's model) until /ping answers."""
        variant = max(config["ProductionVariants"], key=lambda v: v.get("InitialVariantWeight", 1.0))
        try:
            image, data_url, environment = self.model_container(variant.get("ModelName", ""))
        except ServiceError as missing:
            raise endpoints.DeploymentError(missing.message) from None
        workers = variants.workers(variant)
        if workers is not None:
            environment["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(workers)
        directory = self.workdir / "endpoints" / name / secrets.token_hex(4)

        def record(server: endpoints.Deployment) -> None:
            self.store.update("endpoints", name, launching=server.to_dict())

        fleet = endpoints.start(directory, data_url, environment, self.code_dir, outlive_runner=True, on_spawn=record)
        return {**fleet.to_dict(), "url": fleet.url, "config": config["EndpointConfigName"]}, image

    def _deploy(self, name: str, config_name: str, mode: str, deployment: dict[str, Any] | None = None) -> None:
        """`create`, `update` (blue/green) or `restart` (a server a reboot took away) an endpoint's fleet."""
        previous = self.store.get("endpoints", name) or {}
        blue = previous.get("local") or {}
        fleet: dict[str, Any] | None = None
        try:
            injected = self.faults.job_failure("endpoint", name)
            if injected:
                raise endpoints.DeploymentError(injected)
            config = self._config_for(config_name)
            model = self.model_record(
                max(config["ProductionVariants"], key=lambda v: v.get("InitialVariantWeight", 1.0))["ModelName"]
            )
            prerequisites.check(
                "endpoint",
                name,
                image=(model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]).get("Image"),
                volume_key=config.get("KmsKeyId"),
            )
            port = self._endpoint_port(name)
            if not self._front_alive(previous):
                front.check_free(port, name)  # before the fleet starts: the cheap failure first
            fleet, image = self._start_fleet(name, config)
            if not self._front_alive(previous):
                self._start_front(name, port, blue if mode == "update" and _serving(blue) else fleet)
        except Exception as error:
            if fleet is not None:  # the fleet started, but the front on the endpoint's port did not
                endpoints.discard(fleet)
            if isinstance(error, ServiceError):
                reason = error.message
            elif isinstance(error, endpoints.DeploymentError):
                reason = str(error)
            else:
                reason = jobs.unexpected_failure(error)
            self._fail_deployment(name, reason[:1024], serving=mode == "update" and _serving(blue))
            return
        if mode == "update" and _serving(blue):
            self.blue_green_update(name, blue, fleet, config, image, deployment)
        else:
            self.serve(name, fleet, config, image, deployment if mode == "update" else None)

    def _endpoint_port(self, name: str) -> int:
        """The endpoint's port: recorded at creation (or now, for a record from before ports were kept)."""
        record = self.store.get("endpoints", name) or {}
        if not record.get("port"):
            port = endpoints.stable_port(self._recorded_ports(), owner=self._port_owner())
            record = self.store.update("endpoints", name, port=port)
        return record["port"]

    def _port_owner(self) -> port_claims.Owner:
        return port_owner(self.store)

    def release_port_claims(self) -> None:
        """At the cloud's stop: a store kept in memory ends with it, and so do its endpoints' claims on their ports
        (a state file keeps its endpoints, and their claims, for the next start)."""
        if self.store.path is None:
            for record in self.store.values("endpoints"):
                if record.get("port"):
                    port_claims.release(record["port"], self._port_owner())

    def _recorded_ports(self) -> set[int]:
        return {record["port"] for record in self.store.values("endpoints") if record.get("port")}

    @staticmethod
    def _front_alive(record: dict[str, Any]) -> bool:
        found = record.get("front") or {}
        return bool(found.get("pid")) and endpoints.alive(found["pid"], found.get("directory"))

    def _start_front(self, name: str, port: int, fleet: dict[str, Any]) -> None:
        """The front on the endpoint's port, routed to `fleet`; on record from the moment its process exists."""

        def record(server: endpoints.Deployment) -> None:
            self.store.update("endpoints", name, front=server.to_dict())

        front.start(self.workdir / "fronts" / name, port, fleet["url"], name, on_spawn=record)

    def _fail_deployment(self, name: str, reason: str, *, serving: bool) -> None:
        """A failed creation leaves a Failed endpoint. A failed update leaves the old fleet serving: SageMaker
        reports InService with the old config and a FailureReason (DescribeEndpoint's FailureReason: "the status
        is InService but update operation fails")."""
        status = "InService" if serving else "Failed"
        self.store.update(
            "endpoints",
            name,
            EndpointStatus=status,
            FailureReason=reason,
            PendingDeploymentSummary=None,
            launching=None,  # the server that failed to start is stopped
        )

    def serve(
        self, name: str, fleet: dict[str, Any], config: dict[str, Any], image: str | None, deployment: dict | None
    ) -> None:
        """`fleet` takes all traffic; the fleet it replaces, if any, is terminated before the endpoint is InService."""
        record = self.store.get("endpoints", name) or {}
        old = record.get("local") or {}
        self.store.update("endpoints", name, local=fleet, green=None, launching=None)
        if record.get("front"):  # clients on the endpoint's URL reach the new fleet before the old one stops
            front.write_route(record["front"]["directory"], fleet["url"])
        if old.get("pid") and old.get("pid") != fleet["pid"]:
            endpoints.discard(old)
        fields: dict[str, Any] = {
            "EndpointStatus": "InService",
            "EndpointConfigName": config["EndpointConfigName"],
            "ProductionVariants": variants.summaries(config, image),
            "DataCaptureConfig": capture.summary(config.get("DataCaptureConfig")),
            "FailureReason": None,
            "PendingDeploymentSummary": None,
        }
        if deployment is not None:
            fields["LastDeploymentConfig"] = deployment
        self.store.update("endpoints", name, **fields)

    def op_describe_endpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.describe_record(self._endpoint(p["EndpointName"]), "DescribeEndpoint")

    def op_list_endpoints(self, p: dict[str, Any]) -> dict[str, Any]:
        records = self.filtered("endpoints", p, "EndpointName", "EndpointStatus")
        return {
            "Endpoints": [
                {k: r[k] for k in ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime", "EndpointStatus")}
                for r in records
            ]
        }

    def op_delete_endpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        record = self._endpoint(p["EndpointName"])
        for fleet in _fleets(record):
            endpoints.stop(fleet)
        _forget(self.store, record)
        return {}

    def endpoint_url(self, name: str) -> str | None:
        record = self.store.get("endpoints", name) or {}
        if record.get("front"):
            return f"http://127.0.0.1:{record['port']}"
        return record.get("local", {}).get("url")

    def recover_endpoints(self) -> None:
        """Deployments a previous run left in flight: its threads are gone, so they end here. An update's new
        fleet stops and the old one keeps serving; a creation failed."""
        for record in self.store.values("endpoints"):
            name, status = record["EndpointName"], record["EndpointStatus"]
            if record.get("launching"):  # a server that was starting when the runner ended
                endpoints.stop(record["launching"])
                self.store.update("endpoints", name, launching=None)
            if status == "Updating":
                endpoints.stop(record.get("green"))
                self.store.update(
                    "endpoints",
                    name,
                    EndpointStatus="InService" if (record.get("local") or {}).get("pid") else "Failed",
                    FailureReason="InternalServerError: the local runner stopped during the update",
                    PendingDeploymentSummary=None,
                    green=None,
                )
            elif status == "Creating":
                self.store.update(
                    "endpoints",
                    name,
                    EndpointStatus="Failed",
                    FailureReason="InternalServerError: the local runner stopped during the creation",
                )

    def restart_endpoints(self) -> None:
        """Endpoints recorded InService whose server is gone (a reboot) start again."""
        for record in self.store.values("endpoints"):
            local = record.get("local") or {}
            if record["EndpointStatus"] != "InService" or not local.get("pid"):
                continue
            if endpoints.alive(local["pid"]) and endpoints.ping(local["port"]):
                if not self._front_alive(record):  # the fleet survived, its front did not
                    try:
                        self._start_front(record["EndpointName"], self._endpoint_port(record["EndpointName"]), local)
                    except endpoints.DeploymentError as error:
                        self._fail_deployment(record["EndpointName"], str(error), serving=False)
                continue
            self._deploy(record["EndpointName"], local.get("config", record["EndpointConfigName"]), "restart")

    def stop_endpoints(self, delete: bool = False) -> list[str]:
        self.endpoint_shutdown.set()  # a blue/green update in flight rolls back now instead of baking on
        try:
            for thread in list(self.threads):  # a deployment in flight would start its server after this
                if thread.name.startswith("endpoint-"):
                    thread.join(timeout=endpoints.PING_TIMEOUT + 10)
        finally:
            self.endpoint_shutdown.clear()
        return stop_recorded(self.store, delete=delete)

    # -- runtime ----------------------------------------------------------------------------------
    def invoke_endpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        """sagemaker-runtime InvokeEndpoint: to the serving fleet, or to the new one for its share of traffic."""
        started = time.perf_counter()
        name = p["EndpointName"]
        record = self.store.get("endpoints", name)
        if record is None or record["EndpointStatus"] not in ("InService", "Updating"):
            raise ServiceError(
                "ValidationException", f"Endpoint {self.arn('endpoint', name)} of account {self.account} not found."
            )
        fleet = record.get("local") or {}
        green = record.get("green")
        if green and random.random() < green.get("weight", 0.0):
            fleet = green
        body = _bytes(p.get("Body", b""))
        config = self.store.get("endpoint_configs", fleet.get("config", "")) or {"ProductionVariants": []}
        variant = next(iter(config["ProductionVariants"]), {"VariantName": "AllTraffic"})
        if variants.is_serverless(variant) and len(body) > SERVERLESS_PAYLOAD_LIMIT:
            raise ServiceError(
                "ValidationException", "Request payload is larger than the 4 MB limit of serverless endpoints."
            )
        headers = {"Content-Type": p.get("ContentType", "text/csv"), "Accept": p.get("Accept", "application/json")}
        try:
            response = endpoints.HTTP.post(f"{fleet.get('url')}/invocations", content=body, headers=headers, timeout=60)
        except httpx.HTTPError as error:
            with acting_as(None):
                self._publish(name, variant["VariantName"], 500, 0.0, started)
            raise ServiceError("ModelError", f"Received server error from primary: {error}", 424) from None
        model_seconds = response.elapsed.total_seconds()
        with acting_as(None):  # SageMaker publishes its own endpoint metrics
            self._publish(name, variant["VariantName"], response.status_code, model_seconds, started)
        if response.status_code >= 400:
            kind = "client" if response.status_code < 500 else "server"
            raise ServiceError(
                "ModelError",
                f'Received {kind} error ({response.status_code}) from primary with message "{response.text[:500]}".',
                424,
            )
        content_type = response.headers.get("content-type", "")
        # After the metrics, so that writing the capture does not count as latency. A ModelError is not captured:
        # the developer guide documents captured inferences (input and output), not failed requests.
        with acting_as(self._principal(self.model_role(variant.get("ModelName", "")))):
            self.capture.invocation(
                config.get("DataCaptureConfig"),
                name,
                variant["VariantName"],
                (body, headers["Content-Type"]),
                (response.content, content_type),
                p.get("InferenceId"),
            )
        return {
            "Body": response.content,
            "ContentType": content_type,
            "InvokedProductionVariant": variant["VariantName"],
        }

    @staticmethod
    def _principal(role: str | None) -> Principal | None:
        return Principal(role, session="SageMaker") if role else None

    def _publish(self, endpoint: str, variant: str, status: int, model_seconds: float, started: float) -> None:
        total = time.perf_counter() - started
        overhead = max(0.0, total - model_seconds)
        self.cloudwatch.publish_invocation(endpoint, variant, status, model_seconds * 1e6, overhead * 1e6)


def stop_recorded(store: Store, *, delete: bool = False) -> list[str]:
    """Stop the servers of every endpoint `store` records, and name the endpoints. `delete`: forget them too.

    The records alone suffice: `python -m local_runner stop` calls this on the state file, without a local
    cloud, whose start would load every object of the local S3 and whose stop would write them back."""
    stopped = []
    for record in store.values("endpoints"):
        for fleet in _fleets(record):
            endpoints.stop(fleet)
        stopped.append(record["EndpointName"])
        if delete:
            _forget(store, record)
    return stopped


def port_owner(store: Store) -> port_claims.Owner:
    """Whom a store's port claims are in the name of: its state file, or the store itself when kept in memory."""
    return store.path or f"memory-{os.getpid()}-{id(store)}"


def _forget(store: Store, record: dict[str, Any]) -> None:
    """The endpoint's record goes, and with it the claim on its port."""
    store.delete("endpoints", record["EndpointName"])
    if record.get("port"):
        port_claims.release(record["port"], port_owner(store))


def _fleets(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The servers an endpoint record names: starting, new (green), serving, and the front on its port."""
    servers = (record.get("launching"), record.get("green"), record.get("local"), record.get("front"))
    return [server for server in servers if server]


def _serving(fleet: dict[str, Any]) -> bool:
    return bool(fleet.get("pid")) and endpoints.alive(fleet["pid"])


def _bytes(body: Any) -> bytes:
    """A blob parameter as boto3 accepts it (bytes, str or a file-like object), as the bytes sent."""
    if hasattr(body, "read"):
        body = body.read()
    return body.encode() if isinstance(body, str) else bytes(body)
