"""Corrections to moto 5.2.5's CloudFormation, applied on import.

Stock moto covers the happy path of change sets only. This module replaces its change set and
execution model with one that behaves like CloudFormation on the paths a deployer must handle:

- change sets are scoped to their stack, addressed by ARN (or name plus stack), carry
  PhysicalResourceId, Replacement, Scope and Details (before/after values, RequiresRecreation from
  the resource schemas' createOnlyProperties), report parameter-only changes, and report "no
  changes" consistently as FAILED with CloudFormation's reason;
- a CREATE change set for a stack in REVIEW_IN_PROGRESS reuses it, and for a live stack is refused;
- execution is asynchronous, emits per-resource stack events, rolls back on failure
  (ROLLBACK_COMPLETE, UPDATE_ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED), refreshes outputs, and
  makes the stack's other change sets OBSOLETE; executing a FAILED or executed one is refused;
- CancelUpdateStack, ContinueUpdateRollback, RollbackStack and UpdateTerminationProtection work,
  and termination protection is enforced;
- NoEcho parameters are masked in DescribeStacks (moto compares values against key names);
- failures can be injected per resource through template Metadata, operations can be slowed down,
  and faults (throttling, errors, dropped connections, latency) can be armed per API action.

Failure injection, in any resource of a template:

    Metadata:
      cfdeploy-emulator:
        fail-on: [create]          # any of: changeset, create, update, delete, rollback
        reason: "Bucket name already taken"

`changeset` makes the change set itself FAILED with the reason (as a template error would);
`rollback` fails the resource when CloudFormation rolls it back after a failed update, which
leaves the stack in UPDATE_ROLLBACK_FAILED.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from moto.cloudformation import models as cfm
from moto.cloudformation import responses as cfr
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.utils import generate_changeset_id, generate_stack_id
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

METADATA_KEY = "cfdeploy-emulator"
NO_CHANGES = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)

# One lock for every mutation of the CloudFormation backends: request threads and the executor
# threads below share them.
LOCK = threading.RLock()

SETTINGS: dict[str, float] = {
    # Seconds each resource step of an operation takes, and change set creation takes.
    "delay": float(os.environ.get("CFDEPLOY_EMULATOR_DELAY", "0") or 0),
    # Requests per second the whole account may make (0: no limit).
    "rate_limit": 0.0,
}

# Armed faults: {"action", "remaining", "kind", ...}; see the control endpoint below.
FAULTS: list[dict[str, Any]] = []
# Requests seen per API action, for benchmarks and tests.
REQUESTS: dict[str, int] = {}
FAULT_LOCK = threading.Lock()
# Requests seen per signing access key id.
KEYS: dict[str, int] = {}


class ApiError(CloudFormationError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Templates: parameters, intrinsic functions, replacement rules
# --------------------------------------------------------------------------------------------


def effective_parameters(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, decl in (template.get("Parameters") or {}).items():
        if name in given:
            out[name] = str(given[name])
        elif isinstance(decl, dict) and "Default" in decl:
            default = decl["Default"]
            out[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
    return out


def no_echo_keys(template: dict[str, Any]) -> set[str]:
    return {
        name
        for name, decl in (template.get("Parameters") or {}).items()
        if isinstance(decl, dict) and str(decl.get("NoEcho", "")).lower() == "true"
    }


def masked(params: dict[str, str], template: dict[str, Any]) -> dict[str, str]:
    secret = no_echo_keys(template)
    return {k: ("****" if k in secret else v) for k, v in params.items()}


def resolve(value: Any, params: dict[str, str]) -> Any:
    """Evaluates the intrinsic functions whose result is known before deployment (parameters);
    anything that depends on a resource stays a symbol, as CloudFormation's own diff does."""
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return params.get(arg, "{{Ref:%s}}" % arg)
        if fn == "Fn::GetAtt":
            target = ".".join(arg) if isinstance(arg, list) else str(arg)
            return "{{GetAtt:%s}}" % target
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            scope = dict(params)
            scope.update({k: resolve(v, params) for k, v in variables.items()})
            return substitute(text, scope)
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
            parts = resolve(arg[1], params)
            if isinstance(parts, list) and all(isinstance(p, (str, int, float)) for p in parts):
                return str(arg[0]).join(map(str, parts))
    return {k: resolve(v, params) for k, v in value.items()}


def substitute(text: str, scope: dict[str, Any]) -> str:
    out, rest = [], text
    while "${" in rest:
        start = rest.index("${")
        end = rest.find("}", start)
        if end < 0:
            break
        name = rest[start + 2 : end]
        out.append(rest[:start])
        out.append(str(scope[name]) if name in scope else "${%s}" % name)
        rest = rest[end + 1 :]
    out.append(rest)
    return "".join(out)


def references(value: Any) -> set[str]:
    """Names a template fragment refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                found.add(v)
            elif k == "Fn::GetAtt":
                found.add((v[0] if isinstance(v, list) else str(v).split(".")[0]))
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                rest = text
                while "${" in rest:
                    start = rest.index("${")
                    end = rest.find("}", start)
                    if end < 0:
                        break
                    found.add(rest[start + 2 : end].split(".")[0])
                    rest = rest[end + 1 :]
                if isinstance(v, list):
                    found |= references(v[1])
            else:
                found |= references(v)
    return found


_CREATE_ONLY: dict[str, set[str]] = {}

# Properties CloudFormation's documentation marks "Update requires: Replacement" that the resource
# schemas do not list as createOnlyProperties.
REPLACEMENT_OVERRIDES: dict[str, set[str]] = {
    "AWS::DynamoDB::Table": {"KeySchema"},
    "AWS::DynamoDB::GlobalTable": {"KeySchema"},
}


def create_only_properties(resource_type: str, region: str) -> set[str]:
    """Top-level properties whose change replaces the resource (the resource schema's
    createOnlyProperties, shipped by cfn-lint)."""
    if resource_type not in _CREATE_ONLY:
        names: set[str] = set()
        try:
            from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
            for pointer in schema.get("createOnlyProperties", []):
                parts = pointer.split("/")
                if len(parts) >= 3 and parts[1] == "properties":
                    names.add(parts[2])
        except Exception:  # unknown type: nothing forces replacement
            pass
        _CREATE_ONLY[resource_type] = names | REPLACEMENT_OVERRIDES.get(resource_type, set())
    return _CREATE_ONLY[resource_type]


def failure_phases(resource: dict[str, Any]) -> tuple[set[str], str]:
    meta = (resource.get("Metadata") or {}).get(METADATA_KEY) or {}
    phases = meta.get("fail-on") or []
    if isinstance(phases, str):
        phases = [phases]
    reason = meta.get("reason") or "Injected failure (cfdeploy emulator)"
    return {str(p) for p in phases}, str(reason)


def value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Resources in an order that creates every dependency first (DependsOn, Ref, GetAtt)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in resources:
            return
        visiting.add(name)
        decl = resources[name] or {}
        deps = decl.get("DependsOn") or []
        deps = [deps] if isinstance(deps, str) else list(deps)
        for dep in deps + sorted(references(decl.get("Properties") or {})):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in resources:
        visit(name)
    return order


def depends_on(resources: dict[str, Any], name: str, target: str) -> bool:
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen or current not in resources:
            continue
        seen.add(current)
        decl = resources[current] or {}
        deps = decl.get("DependsOn") or []
        deps = [deps] if isinstance(deps, str) else list(deps)
        direct = set(deps) | references(decl.get("Properties") or {})
        if target in direct:
            return True
        stack.extend(direct)
    return False


# --------------------------------------------------------------------------------------------
# Change sets
# --------------------------------------------------------------------------------------------


class EmuChangeSet:
    """A change set as CloudFormation describes it. Attribute names follow the API's shapes in
    snake_case, which is how moto's serializer finds them."""

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)
        self.creation_time = utcnow()
        self.ready_at = time.monotonic() + SETTINGS["delay"]
        self.execution_status_final = kw.get("execution_status_final", "AVAILABLE")

    @property
    def status(self) -> str:
        if time.monotonic() < self.ready_at:
            return "CREATE_PENDING"
        return self.final_status

    @property
    def execution_status(self) -> str:
        if time.monotonic() < self.ready_at:
            return "UNAVAILABLE"
        return self.execution_status_final

    @property
    def status_reason(self) -> str | None:
        if time.monotonic() < self.ready_at:
            return None
        return self.final_reason


def compute_changes(
    stack: cfm.Stack,
    old_template: dict[str, Any],
    old_params: dict[str, str],
    new_template: dict[str, Any],
    new_params: dict[str, str],
) -> list[SimpleNamespace]:
    old_res = old_template.get("Resources") or {}
    new_res = new_template.get("Resources") or {}
    changed_params = {
        k for k in set(old_params) | set(new_params) if old_params.get(k) != new_params.get(k)
    }
    changes: list[SimpleNamespace] = []

    def physical_id(name: str) -> str | None:
        return physical_ids(stack).get(name)

    for name, new in new_res.items():
        new = new or {}
        if name not in old_res:
            changes.append(
                SimpleNamespace(
                    action="Add",
                    logical_resource_id=name,
                    physical_resource_id=None,
                    resource_type=new.get("Type"),
                    replacement=None,
                    scope=[],
                    details=[],
                )
            )
            continue
        old = old_res[name] or {}
        details = []
        if old.get("Type") != new.get("Type"):
            details.append(detail("Properties", "Type", "Always", old.get("Type"), new.get("Type"),
                                  "DirectModification", None, "Modify"))
        raw_old = old.get("Properties") or {}
        raw_new = new.get("Properties") or {}
        res_old = resolve(raw_old, old_params)
        res_new = resolve(raw_new, new_params)
        # CloudFormation compares real values but never shows a NoEcho one.
        shown_old = resolve(raw_old, masked(old_params, old_template))
        shown_new = resolve(raw_new, masked(new_params, new_template))
        create_only = create_only_properties(new.get("Type", ""), stack.region_name)
        for key in sorted(set(res_old) | set(res_new)):
            before, after = res_old.get(key), res_new.get(key)
            if before == after:
                continue
            direct = raw_old.get(key) != raw_new.get(key)
            causes = sorted(references(raw_new.get(key)) & changed_params)
            source = "DirectModification" if direct or not causes else "ParameterReference"
            kind = "Add" if key not in res_old else "Remove" if key not in res_new else "Modify"
            details.append(
                detail(
                    "Properties",
                    key,
                    "Always" if key in create_only else "Never",
                    shown_old.get(key),
                    shown_new.get(key),
                    source,
                    causes[0] if source == "ParameterReference" else None,
                    kind,
                )
            )
        if (old.get("Metadata") or {}) != (new.get("Metadata") or {}):
            details.append(detail("Metadata", None, "Never", old.get("Metadata"),
                                  new.get("Metadata"), "DirectModification", None, "Modify"))
        if details:
            recreations = {d.target.requires_recreation for d in details}
            replacement = (
                "True" if "Always" in recreations
                else "Conditional" if "Conditionally" in recreations
                else "False"
            )
            changes.append(
                SimpleNamespace(
                    action="Modify",
                    logical_resource_id=name,
                    physical_resource_id=physical_id(name),
                    resource_type=new.get("Type"),
                    replacement=replacement,
                    scope=sorted({d.target.attribute for d in details}),
                    details=details,
                )
            )
    for name, old in old_res.items():
        if name not in new_res:
            changes.append(
                SimpleNamespace(
                    action="Remove",
                    logical_resource_id=name,
                    physical_resource_id=physical_id(name),
                    resource_type=(old or {}).get("Type"),
                    replacement=None,
                    scope=[],
                    details=[],
                )
            )
    return changes


def detail(attribute, name, recreation, before, after, source, causing, kind) -> SimpleNamespace:
    return SimpleNamespace(
        target=SimpleNamespace(
            attribute=attribute,
            name=name,
            requires_recreation=recreation,
            path=f"/{attribute}/{name}" if name else f"/{attribute}",
            before_value=value_text(before),
            after_value=value_text(after),
            attribute_change_type=kind,
        ),
        evaluation="Static",
        change_source=source,
        causing_entity=causing,
    )


def without_values(change: SimpleNamespace) -> SimpleNamespace:
    details = [
        SimpleNamespace(
            target=SimpleNamespace(
                attribute=d.target.attribute,
                name=d.target.name,
                requires_recreation=d.target.requires_recreation,
            ),
            evaluation=d.evaluation,
            change_source=d.change_source,
            causing_entity=d.causing_entity,
        )
        for d in change.details
    ]
    return SimpleNamespace(**{**change.__dict__, "details": details})


def physical_ids(stack: cfm.Stack) -> dict[str, str]:
    ids = dict(getattr(stack, "emu_physical_ids", {}) or {})
    try:
        for name, res in stack.resource_map._parsed_resources.items():
            pid = getattr(res, "physical_resource_id", None)
            if isinstance(pid, str) and name in (stack.template_dict.get("Resources") or {}):
                ids[name] = pid
    except Exception:
        pass
    return ids


def live_stack(backend: cfm.CloudFormationBackend, name_or_id: str) -> cfm.Stack | None:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    for stack in backend.stacks.values():
        if stack.name == name_or_id:
            return stack
    return None


def stack_parameters(stack: cfm.Stack) -> dict[str, str]:
    """The parameter values the stack runs with (defaults included)."""
    params = getattr(stack, "emu_parameters", None)
    if params is None:
        params = {k: str(v) for k, v in stack.resource_map.resolved_parameters.items()}
    return dict(params)


def stack_template(stack: cfm.Stack) -> dict[str, Any]:
    # Parsed again from the body: moto's resource parsing writes into `template_dict` (an empty
    # `Properties` for a resource without one), which made an unchanged template look changed.
    return cfm.Stack.parse_template(stack.template) if stack.template else {}


def find_change_set(backend, change_set_name: str, stack_name: str | None) -> EmuChangeSet:
    if change_set_name in backend.change_sets:
        return backend.change_sets[change_set_name]
    if change_set_name.startswith("arn:"):
        raise ApiError("ChangeSetNotFound", f"ChangeSet [{change_set_name}] does not exist")
    if not stack_name:
        raise ValidationError(
            message="StackName must be specified if ChangeSetName is not specified as an ARN."
        )
    stack = live_stack(backend, stack_name)
    for cs in backend.change_sets.values():
        if cs.change_set_name == change_set_name and stack and cs.stack_id == stack.stack_id:
            return cs
    raise ApiError("ChangeSetNotFound", f"ChangeSet [{change_set_name}] does not exist")


def create_change_set(self: cfm.CloudFormationBackend, **kw: Any) -> tuple[str, str]:
    with LOCK:
        name = kw["stack_name"]
        cs_name = kw["change_set_name"]
        cs_type = kw["change_set_type"]
        template_body = kw["template"]
        stack = live_stack(self, name)
        if cs_type == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise ValidationError(
                    message=f"Stack [{name}] already exists and cannot be created again with the changeSet [{cs_name}]."
                )
            if stack is None:
                stack = cfm.Stack(
                    stack_id=generate_stack_id(name, self.region_name, self.account_id),
                    name=name,
                    template={},
                    parameters={},
                    account_id=self.account_id,
                    region_name=self.region_name,
                    notification_arns=kw.get("notification_arns"),
                    tags=kw.get("tags"),
                    role_arn=kw.get("role_arn"),
                )
                stack.status = "REVIEW_IN_PROGRESS"
                self.stacks[stack.stack_id] = stack
                stack._add_stack_event("REVIEW_IN_PROGRESS", resource_status_reason="User Initiated")
        else:
            if stack is None:
                raise ValidationError(name)
            if stack.status == "REVIEW_IN_PROGRESS":
                raise ValidationError(
                    message=f"Stack:{stack.stack_id} is in REVIEW_IN_PROGRESS state and can not be updated."
                )
            if stack.status.endswith("_IN_PROGRESS") or stack.status in (
                "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED",
                "CREATE_FAILED",
            ):
                raise ValidationError(
                    message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                )
        for cs in self.change_sets.values():
            if cs.stack_id == stack.stack_id and cs.change_set_name == cs_name:
                if kw.get("client_token") and getattr(cs, "client_token", None) == kw["client_token"]:
                    # The same request again (its answer was lost): the same change set.
                    return cs.change_set_id, stack.stack_id
                raise ApiError("AlreadyExistsException", f"ChangeSet {cs_name} already exists")

        new_template = cfm.Stack.parse_template(template_body)
        if not isinstance(new_template, dict) or not isinstance(new_template.get("Resources"), dict):
            raise ValidationError(message="Template format error: At least one Resources member must be defined.")
        given = kw["parameters"]
        declared = set((new_template.get("Parameters") or {}).keys())
        for key in given:
            if key not in declared:
                raise ValidationError(message=f"Parameters: [{key}] do not exist in the template")
        new_params = effective_parameters(new_template, given)
        missing = sorted(declared - set(new_params))
        if missing:
            raise ValidationError(
                message=f"Parameters: [{', '.join(missing)}] must have values"
            )
        old_template = stack_template(stack) if cs_type == "UPDATE" else {}
        old_params = stack_parameters(stack) if cs_type == "UPDATE" else {}
        changes = compute_changes(stack, old_template, old_params, new_template, new_params)
        tags = kw.get("tags") or {}
        refused = [
            failure_phases(decl or {})[1]
            for decl in (new_template.get("Resources") or {}).values()
            if "changeset" in failure_phases(decl or {})[0]
        ]
        unchanged = (
            cs_type == "UPDATE"
            and old_template == new_template
            and old_params == new_params
            and tags == (stack.tags or {})
        )
        arn = generate_changeset_id(cs_name, self.region_name, self.account_id)
        cs = EmuChangeSet(
            change_set_id=arn,
            change_set_name=cs_name,
            change_set_type=cs_type,
            stack_id=stack.stack_id,
            stack_name=stack.name,
            description=kw.get("description"),
            template=template_body,
            template_dict=new_template,
            given_parameters=dict(given),
            effective_parameters=new_params,
            parameters={
                k: ("****" if k in no_echo_keys(new_template) else v) for k, v in new_params.items()
            },
            notification_arns=kw.get("notification_arns") or [],
            tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            tag_map=dict(tags),
            role_arn=kw.get("role_arn"),
            capabilities=kw.get("capabilities") or [],
            client_token=kw.get("client_token"),
            changes=changes,
            final_status="FAILED" if unchanged or refused else "CREATE_COMPLETE",
            final_reason=refused[0] if refused else NO_CHANGES if unchanged else None,
            execution_status_final="UNAVAILABLE" if unchanged or refused else "AVAILABLE",
        )
        self.change_sets[arn] = cs
        return arn, stack.stack_id


def delete_change_set(self, change_set_name: str, stack_name: str | None = None) -> None:
    with LOCK:
        cs = find_change_set(self, change_set_name, stack_name)
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise ApiError(
                "InvalidChangeSetStatus",
                f"Cannot delete ChangeSet [{cs.change_set_id}] while it is being executed",
            )
        del self.change_sets[cs.change_set_id]


# --------------------------------------------------------------------------------------------
# Execution: per-resource events, injected failures, rollback
# --------------------------------------------------------------------------------------------


def resource_event(stack, logical_id, resource_type, status, reason=None, physical_id=None):
    event = cfm.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    # Every event of an operation carries the client request token of the call that started it.
    event.client_request_token = getattr(stack, "emu_token", None)
    stack.events.append(event)


def stack_event(stack, status, reason=None):
    stack.status = status
    stack.status_reason = reason
    resource_event(stack, stack.name, "AWS::CloudFormation::Stack", status, reason, stack.stack_id)
    if not status.endswith("_IN_PROGRESS"):
        forget_change_sets(stack)


def forget_change_sets(stack) -> None:
    """After an execution ends, CloudFormation removes every change set of the stack."""
    op = getattr(stack, "emu_operation", None)
    if op is None or op.cs is None or getattr(op, "forgotten", False):
        return
    op.forgotten = True
    backend = cfm.cloudformation_backends[stack.account_id][stack.region_name]
    for arn in [a for a, cs in backend.change_sets.items() if cs.stack_id == stack.stack_id]:
        del backend.change_sets[arn]


def pause() -> None:
    if SETTINGS["delay"] > 0:
        time.sleep(SETTINGS["delay"])


def cancelled(stack) -> bool:
    return bool(getattr(stack, "emu_cancel", False))


def fake_physical_id(stack, name: str) -> str:
    return f"{stack.name}-{name}-{uuid.uuid4().hex[:12].upper()}"


class Operation:
    """What one execution did, kept on the stack so RollbackStack and ContinueUpdateRollback can
    finish it later."""

    def __init__(self, kind: str, cs: EmuChangeSet, old_template, old_params):
        self.kind = kind  # CREATE or UPDATE
        self.cs = cs
        self.old_template = old_template
        self.old_params = old_params
        self.created: list[str] = []
        self.updated: list[str] = []
        self.failed: list[str] = []
        self.rollback_pending: list[str] = []


def execute_change_set(self, change_set_name: str, stack_name: str | None = None,
                       disable_rollback: bool = False, token: str | None = None) -> None:
    with LOCK:
        if token and token in TOKENS:
            # The same request again (its answer was lost): CloudFormation says it succeeded.
            return
        cs = find_change_set(self, change_set_name, stack_name)
        if cs.status != "CREATE_COMPLETE" or cs.execution_status != "AVAILABLE":
            raise ApiError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{cs.change_set_id}] cannot be executed in its current status of "
                f"[{cs.status}] and execution status of [{cs.execution_status}]",
            )
        stack = self.stacks.get(cs.stack_id)
        if stack is None:
            raise ValidationError(cs.stack_name)
        cs.execution_status_final = "EXECUTE_IN_PROGRESS"
        for other in self.change_sets.values():
            if other.stack_id == stack.stack_id and other is not cs:
                other.execution_status_final = "OBSOLETE"
        old_template = stack_template(stack)
        old_params = stack_parameters(stack)
        op = Operation(cs.change_set_type, cs, old_template, old_params)
        stack.emu_operation = op
        stack.emu_token = token
        if token:
            TOKENS.add(token)
        stack.emu_cancel = False
        stack.disable_rollback = disable_rollback
        if cs.change_set_type == "CREATE":
            stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        else:
            stack_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    target = run_create if cs.change_set_type == "CREATE" else run_update
    threading.Thread(target=guarded, args=(target, self, stack, op), daemon=True).start()


def guarded(fn, backend, stack, op) -> None:
    try:
        fn(backend, stack, op)
    except Exception as exc:  # the emulator must never leave a stack in progress forever
        with LOCK:
            stack_event(stack, f"{op.kind}_FAILED" if op.kind == "CREATE" else "UPDATE_ROLLBACK_FAILED",
                        f"Internal emulator error: {exc}")


def apply_with_moto(stack, op: Operation) -> None:
    """Creates or updates the real moto resources, so other moto services see them."""
    cs = op.cs
    stack.template = cs.template
    stack._parse_template()
    stack.parameters = dict(cs.given_parameters)
    stack.emu_parameters = dict(cs.effective_parameters)
    if op.kind == "CREATE":
        stack.resource_map = stack._create_resource_map()
        stack.resource_map.create(stack.template_dict)
    else:
        stack.resource_map.update(stack.template_dict, dict(cs.given_parameters))
    stack.output_map = stack._create_output_map()
    stack.tags = dict(cs.tag_map)
    stack.description = stack.template_dict.get("Description")


def run_create(backend, stack, op: Operation) -> None:
    resources = op.cs.template_dict.get("Resources") or {}
    order = dependency_order(resources)
    failure: tuple[str, str] | None = None
    for name in order:
        pause()
        with LOCK:
            rtype = resources[name].get("Type")
            resource_event(stack, name, rtype, "CREATE_IN_PROGRESS")
            phases, reason = failure_phases(resources[name])
            if cancelled(stack) or "create" in phases:
                failure = (name, reason)
                break
            op.created.append(name)
    if failure is None:
        try:
            with LOCK:
                apply_with_moto(stack, op)
        except Exception as exc:  # moto could not create one of them: fail on the last one
            failure = (order[-1] if order else stack.name, f"{type(exc).__name__}: {exc}")
            op.created = [n for n in op.created if n != failure[0]]
    if failure is None:
        ids = physical_ids(stack)
        for name in order:
            with LOCK:
                resource_event(stack, name, resources[name].get("Type"), "CREATE_COMPLETE",
                               physical_id=ids.get(name))
        with LOCK:
            op.cs.execution_status_final = "EXECUTE_COMPLETE"
            stack_event(stack, "CREATE_COMPLETE")
        return

    failed, reason = failure
    with LOCK:
        stack.emu_physical_ids = {n: fake_physical_id(stack, n) for n in op.created}
        for name in op.created:
            resource_event(stack, name, resources[name].get("Type"), "CREATE_COMPLETE",
                           physical_id=stack.emu_physical_ids[name])
        resource_event(stack, failed, resources.get(failed, {}).get("Type", ""), "CREATE_FAILED", reason)
        op.failed = [failed]
        # Resources that did not wait for the failed one were being created alongside it.
        for name in order:
            if name in op.created or name == failed or depends_on(resources, name, failed):
                continue
            resource_event(stack, name, resources[name].get("Type"), "CREATE_IN_PROGRESS")
            resource_event(stack, name, resources[name].get("Type"), "CREATE_FAILED",
                           "Resource creation cancelled")
            op.created.append(name)
        op.cs.execution_status_final = "EXECUTE_FAILED"
    failed_reason = f"The following resource(s) failed to create: [{failed}]. "
    if stack.disable_rollback:
        with LOCK:
            stack_event(stack, "CREATE_FAILED", failed_reason)
        return
    rollback_create(backend, stack, op, failed_reason + "Rollback requested by user.")


def rollback_create(backend, stack, op: Operation, reason: str) -> None:
    resources = op.cs.template_dict.get("Resources") or {}
    with LOCK:
        stack_event(stack, "ROLLBACK_IN_PROGRESS", reason)
    for name in reversed(op.created + op.failed):
        pause()
        with LOCK:
            rtype = resources.get(name, {}).get("Type", "")
            pid = (getattr(stack, "emu_physical_ids", {}) or {}).get(name)
            resource_event(stack, name, rtype, "DELETE_IN_PROGRESS", physical_id=pid)
            resource_event(stack, name, rtype, "DELETE_COMPLETE", physical_id=pid)
    with LOCK:
        stack.emu_physical_ids = {}
        stack_event(stack, "ROLLBACK_COMPLETE")


def run_update(backend, stack, op: Operation) -> None:
    cs = op.cs
    new_res = cs.template_dict.get("Resources") or {}
    old_res = op.old_template.get("Resources") or {}
    by_name = {c.logical_resource_id: c for c in cs.changes}
    steps = [n for n in dependency_order(new_res) if n in by_name and by_name[n].action in ("Add", "Modify")]
    failure: tuple[str, str] | None = None
    for name in steps:
        pause()
        with LOCK:
            change = by_name[name]
            rtype = new_res[name].get("Type")
            verb = "CREATE" if change.action == "Add" else "UPDATE"
            resource_event(stack, name, rtype, f"{verb}_IN_PROGRESS",
                           physical_id=change.physical_resource_id)
            phases, reason = failure_phases(new_res[name])
            if cancelled(stack):
                failure = (name, "Resource update cancelled")
                break
            if ("create" if verb == "CREATE" else "update") in phases:
                failure = (name, reason)
                break
            (op.created if verb == "CREATE" else op.updated).append(name)
    if failure is None:
        try:
            with LOCK:
                apply_with_moto(stack, op)
        except Exception as exc:
            failure = (steps[-1] if steps else stack.name, f"{type(exc).__name__}: {exc}")
    if failure is None:
        ids = physical_ids(stack)
        with LOCK:
            for name in steps:
                verb = "CREATE" if by_name[name].action == "Add" else "UPDATE"
                resource_event(stack, name, new_res[name].get("Type"), f"{verb}_COMPLETE",
                               physical_id=ids.get(name))
            stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        for change in [c for c in cs.changes if c.action == "Remove"]:
            pause()
            with LOCK:
                name = change.logical_resource_id
                rtype = change.resource_type
                resource_event(stack, name, rtype, "DELETE_IN_PROGRESS", physical_id=change.physical_resource_id)
                phases, reason = failure_phases(old_res.get(name) or {})
                status = "DELETE_FAILED" if "delete" in phases else "DELETE_COMPLETE"
                resource_event(stack, name, rtype, status, reason if status == "DELETE_FAILED" else None,
                               physical_id=change.physical_resource_id)
        with LOCK:
            cs.execution_status_final = "EXECUTE_COMPLETE"
            stack_event(stack, "UPDATE_COMPLETE")
        return

    failed, reason = failure
    with LOCK:
        change = by_name.get(failed)
        verb = "CREATE" if change is not None and change.action == "Add" else "UPDATE"
        resource_event(stack, failed, new_res.get(failed, {}).get("Type", ""), f"{verb}_FAILED", reason,
                       physical_id=change.physical_resource_id if change else None)
        op.failed = [failed]
        for name in steps:
            if name in op.created or name in op.updated or name == failed:
                continue
            if depends_on(new_res, name, failed):
                continue
            other = by_name[name]
            rtype = new_res[name].get("Type")
            if other.action == "Add":
                resource_event(stack, name, rtype, "CREATE_IN_PROGRESS")
                resource_event(stack, name, rtype, "CREATE_FAILED", "Resource creation cancelled")
                op.created.append(name)
            else:
                resource_event(stack, name, rtype, "UPDATE_IN_PROGRESS", physical_id=other.physical_resource_id)
                resource_event(stack, name, rtype, "UPDATE_FAILED", "Resource update cancelled",
                               physical_id=other.physical_resource_id)
                op.updated.append(name)
        cs.execution_status_final = "EXECUTE_FAILED"
    if reason == "Resource update cancelled":
        why = "Stack update cancelled"
    else:
        why = f"The following resource(s) failed to {verb.lower()}: [{failed}]. "
    if stack.disable_rollback:
        with LOCK:
            stack_event(stack, "UPDATE_FAILED", why)
        return
    op.rollback_pending = list(reversed(op.updated + [n for n in op.failed if n in old_res]))
    rollback_update(backend, stack, op, why, skip=set())


def rollback_update(backend, stack, op: Operation, reason: str | None, skip: set[str]) -> None:
    new_res = op.cs.template_dict.get("Resources") or {}
    with LOCK:
        stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    ids = physical_ids(stack)
    while op.rollback_pending:
        name = op.rollback_pending[0]
        pause()
        with LOCK:
            rtype = (new_res.get(name) or {}).get("Type", "")
            resource_event(stack, name, rtype, "UPDATE_IN_PROGRESS", physical_id=ids.get(name))
            phases, why = failure_phases(new_res.get(name) or {})
            if name in skip:
                resource_event(stack, name, rtype, "UPDATE_COMPLETE",
                               "Resource skipped during UpdateRollback", physical_id=ids.get(name))
            elif "rollback" in phases:
                resource_event(stack, name, rtype, "UPDATE_FAILED", why, physical_id=ids.get(name))
                stack_event(stack, "UPDATE_ROLLBACK_FAILED",
                            f"The following resource(s) failed to update: [{name}]. ")
                return
            else:
                resource_event(stack, name, rtype, "UPDATE_COMPLETE", physical_id=ids.get(name))
            op.rollback_pending.pop(0)
    with LOCK:
        stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for name in reversed(op.created):
        pause()
        with LOCK:
            rtype = (new_res.get(name) or {}).get("Type", "")
            resource_event(stack, name, rtype, "DELETE_IN_PROGRESS")
            resource_event(stack, name, rtype, "DELETE_COMPLETE")
    with LOCK:
        stack_event(stack, "UPDATE_ROLLBACK_COMPLETE")


# --------------------------------------------------------------------------------------------
# Stack operations moto answers with HTTP 500
# --------------------------------------------------------------------------------------------


def cancel_update_stack(backend, stack_name: str) -> None:
    with LOCK:
        stack = live_stack(backend, stack_name)
        if stack is None:
            raise ValidationError(stack_name)
        if stack.status != "UPDATE_IN_PROGRESS":
            raise ValidationError(
                message=f"CancelUpdateStack cannot be called from current stack status: {stack.status}"
            )
        stack.emu_cancel = True


def continue_update_rollback(backend, stack_name: str, skip: list[str]) -> None:
    with LOCK:
        stack = live_stack(backend, stack_name)
        if stack is None:
            raise ValidationError(stack_name)
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(
                message=f"Stack {stack_name} is in {stack.status} state and can not continue update rollback"
            )
        op = getattr(stack, "emu_operation", None)
        if op is None:
            op = Operation("UPDATE", None, stack_template(stack), {})
    threading.Thread(
        target=guarded_rollback, args=(backend, stack, op, set(skip)), daemon=True
    ).start()


def guarded_rollback(backend, stack, op, skip) -> None:
    try:
        rollback_update(backend, stack, op, None, skip)
    except Exception as exc:
        with LOCK:
            stack_event(stack, "UPDATE_ROLLBACK_FAILED", f"Internal emulator error: {exc}")


def rollback_stack(backend, stack_name: str) -> str:
    with LOCK:
        stack = live_stack(backend, stack_name)
        if stack is None:
            raise ValidationError(stack_name)
        op = getattr(stack, "emu_operation", None)
        if stack.status == "CREATE_FAILED" and op is not None:
            target, args = rollback_create, (backend, stack, op, "Rollback requested by user.")
        elif stack.status == "UPDATE_FAILED" and op is not None:
            op.rollback_pending = list(reversed(op.updated + op.failed))
            target, args = rollback_update, (backend, stack, op, "Rollback requested by user.", set())
        else:
            raise ValidationError(
                message=f"Stack {stack_name} is in {stack.status} state and can not be rolled back"
            )
    threading.Thread(target=target, args=args, daemon=True).start()
    return stack.stack_id


def delete_stack(self, name_or_stack_id: str, token: str | None = None,
                 retain: list[str] | None = None) -> None:
    """DeleteStack as CloudFormation does it: refused under termination protection, recognised
    when retried with the same token, per-resource events in reverse dependency order,
    DeletionPolicy Retain/Snapshot honoured (DELETE_SKIPPED), `fail-on: [delete]` leaving the
    stack DELETE_FAILED, and RetainResources accepted only for a DELETE_FAILED stack. Runs in the
    background when operations are slowed down."""
    retain = list(retain or [])
    with LOCK:
        if token and token in TOKENS:
            return
        stack = live_stack(self, name_or_stack_id)
        if stack is None:
            return  # deleting what is not there succeeds, as in CloudFormation
        if stack.enable_termination_protection:
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        if retain and stack.status != "DELETE_FAILED":
            raise ValidationError(
                message="Invalid operation on stack: RetainResources can only be specified when "
                f"the stack is in the DELETE_FAILED state; stack [{stack.name}] is {stack.status}"
            )
        if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        for arn in [a for a, cs in self.change_sets.items() if cs.stack_id == stack.stack_id]:
            del self.change_sets[arn]
        stack.emu_token = token
        if token:
            TOKENS.add(token)
        stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    if SETTINGS["delay"] > 0:
        threading.Thread(target=guarded_delete, args=(self, stack, retain), daemon=True).start()
    else:
        run_delete(self, stack, retain)


def guarded_delete(backend, stack, retain) -> None:
    try:
        run_delete(backend, stack, retain)
    except Exception as exc:  # never leave a stack in progress forever
        with LOCK:
            stack_event(stack, "DELETE_FAILED", f"Internal emulator error: {exc}")


def run_delete(backend, stack, retain: list[str]) -> None:
    template = stack_template(stack) if stack.status != "REVIEW_IN_PROGRESS" else {}
    resources = template.get("Resources") or {}
    ids = physical_ids(stack)
    gone = getattr(stack, "emu_deleted", None) or set()
    stack.emu_deleted = gone
    failed: list[str] = []
    for name in reversed(dependency_order(resources)):
        if name not in ids or name in gone:
            continue  # never created, or deleted by an earlier attempt
        pause()
        decl = resources[name] or {}
        rtype = decl.get("Type")
        with LOCK:
            policy = decl.get("DeletionPolicy")
            if name in retain or policy in ("Retain", "RetainExceptOnCreate"):
                resource_event(stack, name, rtype, "DELETE_SKIPPED", physical_id=ids.get(name))
                continue
            phases, reason = failure_phases(decl)
            resource_event(stack, name, rtype, "DELETE_IN_PROGRESS", physical_id=ids.get(name))
            if "delete" in phases:
                resource_event(stack, name, rtype, "DELETE_FAILED", reason, physical_id=ids.get(name))
                failed.append(name)
            else:
                resource_event(stack, name, rtype, "DELETE_COMPLETE", physical_id=ids.get(name))
                gone.add(name)
    with LOCK:
        if failed:
            stack_event(stack, "DELETE_FAILED",
                        f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
            return
        try:
            stack.resource_map.delete()
        except Exception:  # moto's own resources: best effort, as they are not what is tested
            pass
        stack_event(stack, "DELETE_COMPLETE")
        backend.stacks.pop(stack.stack_id, None)
        backend.deleted_stacks[stack.stack_id] = stack
        for export in list(getattr(stack, "exports", []) or []):
            backend.exports.pop(export.name, None)


def describe_stacks(self, name_or_stack_id: str) -> list:
    with LOCK:
        return ORIGINAL["describe_stacks"](self, name_or_stack_id)


def list_stacks(self, status_filter: list[str] | None = None) -> list:
    with LOCK:
        return ORIGINAL["list_stacks"](self, status_filter)


def parameter_list(self) -> list[dict[str, Any]]:
    secret = set(getattr(self.resource_map, "no_echo_parameter_keys", []) or [])
    if self.template:
        secret |= no_echo_keys(self.template_dict)
    params = getattr(self, "emu_parameters", None) or self.resource_map.resolved_parameters
    return [
        {"ParameterKey": k, "ParameterValue": "****" if k in secret else v}
        for k, v in params.items()
    ]


# --------------------------------------------------------------------------------------------
# Query API handlers
# --------------------------------------------------------------------------------------------


def r_create_change_set(self) -> ActionResult:
    change_set_type = self._get_param("ChangeSetType", "CREATE")
    body = self._get_param("TemplateBody")
    url = self._get_param("TemplateURL")
    if self._get_bool_param("UsePreviousTemplate", False):
        stack = live_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is None:
            raise ValidationError(self._get_param("StackName"))
        body = stack.template
    elif url:
        body = self._get_stack_from_s3_url(url)
    if not body:
        raise ValidationError(message="Either Template URL or Template Body must be specified.")
    stack_name = self._get_param("StackName")
    previous = {}
    stack = live_stack(self.cloudformation_backend, stack_name)
    if stack is not None:
        previous = stack_parameters(stack)
    parameters = {}
    for p in self._get_param("Parameters", []):
        if p.get("UsePreviousValue"):
            parameters[p["ParameterKey"]] = previous.get(p["ParameterKey"], "")
        else:
            parameters[p["ParameterKey"]] = p.get("ParameterValue", "")
    arn, stack_id = self.cloudformation_backend.create_change_set(
        stack_name=stack_name,
        change_set_name=self._get_param("ChangeSetName"),
        template=body,
        parameters=parameters,
        description=self._get_param("Description"),
        change_set_type=change_set_type,
        notification_arns=self._get_param("NotificationARNs", []),
        tags={t["Key"]: t["Value"] for t in self._get_param("Tags", [])},
        role_arn=self._get_param("RoleARN"),
        capabilities=self._get_param("Capabilities", []),
        client_token=self._get_param("ClientToken"),
    )
    return ActionResult({"Id": arn, "StackId": stack_id})


def r_describe_change_set(self) -> ActionResult:
    with LOCK:
        cs = find_change_set(
            self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
        )
        include = self._get_bool_param("IncludePropertyValues", False)
        pending = cs.status == "CREATE_PENDING"
        changes = [] if pending else cs.changes if include else [without_values(c) for c in cs.changes]
        view = SimpleNamespace(**{k: v for k, v in cs.__dict__.items() if k != "changes"})
        view.status = cs.status
        view.execution_status = cs.execution_status
        view.status_reason = cs.status_reason
        view.changes = changes
        return ActionResult(view)


def r_delete_change_set(self) -> EmptyResult:
    self.cloudformation_backend.delete_change_set(
        self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return EmptyResult()


def r_execute_change_set(self) -> EmptyResult:
    self.cloudformation_backend.execute_change_set(
        change_set_name=self._get_param("ChangeSetName"),
        stack_name=self._get_param("StackName"),
        disable_rollback=self._get_bool_param("DisableRollback", False),
        token=self._get_param("ClientRequestToken"),
    )
    return EmptyResult()


def r_list_change_sets(self) -> ActionResult:
    with LOCK:
        backend = self.cloudformation_backend
        stack = live_stack(backend, self._get_param("StackName"))
        if stack is None:
            raise ValidationError(self._get_param("StackName"))
        summaries = []
        for cs in backend.change_sets.values():
            if cs.stack_id != stack.stack_id:
                continue
            summaries.append(
                SimpleNamespace(
                    stack_id=cs.stack_id, stack_name=cs.stack_name, change_set_id=cs.change_set_id,
                    change_set_name=cs.change_set_name, execution_status=cs.execution_status,
                    status=cs.status, status_reason=cs.status_reason,
                    creation_time=cs.creation_time, description=cs.description,
                )
            )
        return ActionResult({"Summaries": summaries})


def r_cancel_update_stack(self) -> EmptyResult:
    token = self._get_param("ClientRequestToken")
    with LOCK:
        if token and token in TOKENS:
            return EmptyResult()
    cancel_update_stack(self.cloudformation_backend, self._get_param("StackName"))
    if token:
        TOKENS.add(token)
    return EmptyResult()


def r_continue_update_rollback(self) -> EmptyResult:
    token = self._get_param("ClientRequestToken")
    with LOCK:
        if token and token in TOKENS:
            return EmptyResult()
        if token:
            TOKENS.add(token)
    continue_update_rollback(
        self.cloudformation_backend,
        self._get_param("StackName"),
        self._get_param("ResourcesToSkip", []),
    )
    return EmptyResult()


def r_rollback_stack(self) -> ActionResult:
    token = self._get_param("ClientRequestToken")
    with LOCK:
        stack = live_stack(self.cloudformation_backend, self._get_param("StackName"))
        if token and token in TOKENS and stack is not None:
            return ActionResult({"StackId": stack.stack_id})
        if token:
            TOKENS.add(token)
    stack_id = rollback_stack(self.cloudformation_backend, self._get_param("StackName"))
    return ActionResult({"StackId": stack_id})


def r_delete_stack(self) -> EmptyResult:
    self.cloudformation_backend.delete_stack(
        self._get_param("StackName"),
        token=self._get_param("ClientRequestToken"),
        retain=self._get_param("RetainResources", []),
    )
    return EmptyResult()


# --------------------------------------------------------------------------------------------
# Drift detection (moto has none): drift is armed per resource through the control endpoint
# (/_emulator/drift); detection takes the operation delay and reports what was armed.
# --------------------------------------------------------------------------------------------

# {(stack name, logical id): {"status": MODIFIED|DELETED, "differences": [...]}}
DRIFT: dict[tuple[str, str], dict[str, Any]] = {}
# {detection id: {"stack": stack id, "name": stack name, "ready_at": monotonic}}
DETECTIONS: dict[str, dict[str, Any]] = {}


def r_detect_stack_drift(self) -> ActionResult:
    with LOCK:
        stack = live_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is None:
            raise ValidationError(self._get_param("StackName"))
        if stack.status.endswith("_IN_PROGRESS"):
            raise ValidationError(
                message=f"Drift detection is not supported for stack [{stack.name}] in {stack.status}"
            )
        detection = str(uuid.uuid4())
        DETECTIONS[detection] = {
            "stack": stack.stack_id, "name": stack.name,
            "ready_at": time.monotonic() + SETTINGS["delay"],
        }
    return ActionResult({"StackDriftDetectionId": detection})


def r_describe_stack_drift_detection_status(self) -> ActionResult:
    detection = self._get_param("StackDriftDetectionId")
    with LOCK:
        d = DETECTIONS.get(detection)
        if d is None:
            raise ValidationError(message=f"Drift detection [{detection}] does not exist")
        done = time.monotonic() >= d["ready_at"]
        drifted = [k for k in DRIFT if k[0] == d["name"]]
    result = {
        "StackId": d["stack"],
        "StackDriftDetectionId": detection,
        "DetectionStatus": "DETECTION_COMPLETE" if done else "DETECTION_IN_PROGRESS",
        "Timestamp": utcnow(),
    }
    if done:
        result["StackDriftStatus"] = "DRIFTED" if drifted else "IN_SYNC"
        result["DriftedStackResourceCount"] = len(drifted)
    return ActionResult(result)


def r_describe_stack_resource_drifts(self) -> ActionResult:
    with LOCK:
        stack = live_stack(self.cloudformation_backend, self._get_param("StackName"))
        if stack is None:
            raise ValidationError(self._get_param("StackName"))
        wanted = set(self._get_param("StackResourceDriftStatusFilters", []) or [])
        resources = (stack_template(stack).get("Resources") or {})
        ids = physical_ids(stack)
        drifts = []
        for name, decl in resources.items():
            armed = DRIFT.get((stack.name, name))
            status = armed["status"] if armed else "IN_SYNC"
            if wanted and status not in wanted:
                continue
            drifts.append({
                "StackId": stack.stack_id,
                "LogicalResourceId": name,
                "PhysicalResourceId": ids.get(name, ""),
                "ResourceType": (decl or {}).get("Type"),
                "StackResourceDriftStatus": status,
                "PropertyDifferences": [
                    {"PropertyPath": d["path"], "ExpectedValue": d.get("expected", ""),
                     "ActualValue": d.get("actual", ""), "DifferenceType": d.get("type", "NOT_EQUAL")}
                    for d in (armed or {}).get("differences", [])
                ],
                "Timestamp": utcnow(),
            })
    return ActionResult({"StackResourceDrifts": drifts})


def r_update_termination_protection(self) -> ActionResult:
    with LOCK:
        name = self._get_param("StackName")
        stack = live_stack(self.cloudformation_backend, name)
        if stack is None:
            raise ValidationError(name)
        stack.enable_termination_protection = self._get_bool_param(
            "EnableTerminationProtection", False
        )
        return ActionResult({"StackId": stack.stack_id})


def r_describe_stack_events(self) -> ActionResult:
    with LOCK:
        backend = self.cloudformation_backend
        name = self._get_param("StackName")
        stack = live_stack(backend, name) or backend.get_stack(name)
        events = list(reversed(stack.events))
    token = self._get_param("NextToken")
    start = int(token) if token else 0
    page = events[start : start + 100]
    next_token = str(start + 100) if len(events) > start + 100 else None
    return ActionResult({"StackEvents": page, "NextToken": next_token})


# Client request tokens of every call that took effect: a retry with one of them is the same
# request, answered with success and no second effect (as CloudFormation does).
TOKENS: set[str] = set()

ORIGINAL: dict[str, Any] = {
    "delete_stack": cfm.CloudFormationBackend.delete_stack,
    "describe_stacks": cfm.CloudFormationBackend.describe_stacks,
    "list_stacks": cfm.CloudFormationBackend.list_stacks,
}


def apply() -> None:
    backend = cfm.CloudFormationBackend
    backend.create_change_set = create_change_set
    backend.delete_change_set = delete_change_set
    backend.execute_change_set = execute_change_set
    backend.delete_stack = delete_stack
    backend.describe_stacks = describe_stacks
    backend.list_stacks = list_stacks
    cfm.Stack.parameter_list = property(parameter_list)
    cfm.Stack.status_reason = None
    response = cfr.CloudFormationResponse
    response.create_change_set = r_create_change_set
    response.describe_change_set = r_describe_change_set
    response.delete_change_set = r_delete_change_set
    response.execute_change_set = r_execute_change_set
    response.list_change_sets = r_list_change_sets
    response.cancel_update_stack = r_cancel_update_stack
    response.continue_update_rollback = r_continue_update_rollback
    response.rollback_stack = r_rollback_stack
    response.update_termination_protection = r_update_termination_protection
    response.delete_stack = r_delete_stack
    response.detect_stack_drift = r_detect_stack_drift
    response.describe_stack_drift_detection_status = r_describe_stack_drift_detection_status
    response.describe_stack_resource_drifts = r_describe_stack_resource_drifts
    response.describe_stack_events = r_describe_stack_events
    # Changes are already shaped as ResourceChange; wrap each as a Change of type Resource.
    response.RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(response.RESPONSE_KEY_PATH_TO_TRANSFORMER)


apply()


# --------------------------------------------------------------------------------------------
# The control endpoint and fault injection (WSGI middleware)
# --------------------------------------------------------------------------------------------

ERROR_XML = (
    '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
    "<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
    "<RequestId>{request_id}</RequestId></ErrorResponse>"
)


# The account-wide request limit (SETTINGS["rate_limit"] per second, 0: none), shared by every
# caller and every action, as CloudFormation's is: a token bucket holding one second's worth.
BUCKET: dict[str, float] = {"tokens": 0.0, "at": 0.0}


def over_rate_limit() -> bool:
    rate = SETTINGS.get("rate_limit", 0.0)
    if rate <= 0:
        return False
    now = time.monotonic()
    BUCKET["tokens"] = min(rate, BUCKET["tokens"] + (now - BUCKET["at"]) * rate)
    BUCKET["at"] = now
    if BUCKET["tokens"] >= 1:
        BUCKET["tokens"] -= 1
        return False
    REQUESTS["_throttled"] = REQUESTS.get("_throttled", 0) + 1
    return True


def take_fault(action: str) -> dict[str, Any] | None:
    with FAULT_LOCK:
        REQUESTS[action] = REQUESTS.get(action, 0) + 1
        if over_rate_limit():
            return {"kind": "throttle"}
        for fault in FAULTS:
            if fault["remaining"] > 0 and fault["action"] in (action, "*"):
                if fault["after"] > 0:
                    fault["after"] -= 1
                    continue
                fault["remaining"] -= 1
                fault["hits"] = fault.get("hits", 0) + 1
                return dict(fault)
    return None


def json_response(start_response, status: str, payload: Any):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def control(environ, start_response):
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        return json_response(start_response, "400 Bad Request", {"error": "body is not JSON"})
    if path == "/_emulator/faults":
        with FAULT_LOCK:
            if method == "POST":
                kind = payload.get("kind", "throttle")
                if kind not in ("throttle", "error", "drop", "latency", "lost", "blackhole",
                                "expired", "html"):
                    return json_response(start_response, "400 Bad Request",
                                         {"error": f"unknown kind {kind}"})
                fault = {
                    "action": payload.get("action", "*"),
                    "remaining": int(payload.get("count", 1)),
                    "kind": kind,
                    "status": int(payload.get("status", 500)),
                    "code": payload.get("code", "InternalFailure"),
                    "message": payload.get("message", "We encountered an internal error. Please try again."),
                    "seconds": float(payload.get("seconds", 1.0)),
                    # Matching requests to let through before the fault starts.
                    "after": int(payload.get("after", 0)),
                    "hits": 0,
                }
                FAULTS.append(fault)
                return json_response(start_response, "200 OK", fault)
            if method == "DELETE":
                FAULTS.clear()
                return json_response(start_response, "200 OK", {"cleared": True})
            return json_response(start_response, "200 OK", FAULTS)
    if path == "/_emulator/settings":
        if method == "POST":
            if "delay" in payload:
                SETTINGS["delay"] = float(payload["delay"])
            if "rate_limit" in payload:
                with FAULT_LOCK:
                    SETTINGS["rate_limit"] = float(payload["rate_limit"])
                    BUCKET["tokens"] = SETTINGS["rate_limit"]
                    BUCKET["at"] = time.monotonic()
        return json_response(start_response, "200 OK", SETTINGS)
    if path == "/_emulator/drift":
        with LOCK:
            if method == "POST":
                DRIFT[(payload["stack"], payload["resource"])] = {
                    "status": payload.get("status", "MODIFIED"),
                    "differences": payload.get("differences", []),
                }
            if method == "DELETE":
                DRIFT.clear()
            return json_response(start_response, "200 OK",
                                 [{"stack": k[0], "resource": k[1], **v} for k, v in DRIFT.items()])
    if path == "/_emulator/requests":
        with FAULT_LOCK:
            if method == "DELETE":
                REQUESTS.clear()
                KEYS.clear()
            return json_response(start_response, "200 OK", dict(REQUESTS))
    if path == "/_emulator/keys":
        # The access key ids that signed requests since the counts were last cleared.
        with FAULT_LOCK:
            return json_response(start_response, "200 OK", dict(KEYS))
    return json_response(start_response, "404 Not Found", {"error": f"no such control path {path}"})


REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable"}


def drop_connection(environ) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def peer_gone(sock) -> bool:
    """The client closed its end (it gave up waiting)."""
    try:
        sock.setblocking(False)
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        finally:
            sock.setblocking(True)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def wrap(app):
    """moto's WSGI app behind the control endpoint and the armed faults."""

    def middleware(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        query = parse_qs(environ.get("QUERY_STRING", ""))
        action = (form.get("Action") or query.get("Action") or [""])[0]
        # JSON protocols (Step Functions) name the operation in a header: `AWSStepFunctions.X`.
        if not action:
            action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if "Credential=" in auth:
            key = auth.split("Credential=", 1)[1].split("/", 1)[0]
            with FAULT_LOCK:
                KEYS[key] = KEYS.get(key, 0) + 1
        fault = take_fault(action) if action else None
        if fault is not None:
            kind = fault["kind"]
            if kind == "latency":
                time.sleep(fault["seconds"])
            elif kind in ("drop", "lost", "blackhole"):
                if kind == "lost":
                    # The request takes effect; its answer never arrives.
                    for _ in app(environ, lambda *args, **kw: None):
                        pass
                elif kind == "blackhole":
                    # The connection is accepted and never answered (until the client gives up).
                    deadline = time.monotonic() + fault["seconds"]
                    sock = environ.get("werkzeug.socket")
                    while time.monotonic() < deadline:
                        time.sleep(0.05)
                        if sock is not None and peer_gone(sock):
                            break
                drop_connection(environ)
                raise ConnectionAbortedError(f"{kind}: the emulator's fault injection")
            elif kind == "html":
                body = (
                    "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1>"
                    "<p>Request blocked by the corporate proxy.</p></body></html>"
                ).encode()
                status = fault["status"]
                start_response(f"{status} {REASONS.get(status, 'Error')}",
                               [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
                return [body]
            else:
                throttle = kind == "throttle"
                expired = kind == "expired"
                status = 400 if throttle else 403 if expired else fault["status"]
                code = "Throttling" if throttle else "ExpiredToken" if expired else fault["code"]
                message = ("Rate exceeded" if throttle
                           else "The security token included in the request is expired" if expired
                           else fault["message"])
                if environ.get("HTTP_X_AMZ_TARGET"):
                    # A JSON-protocol service (Step Functions) answers errors in JSON.
                    code = "ThrottlingException" if throttle else code
                    body = json.dumps({"__type": code, "message": message}).encode()
                    start_response(f"{status} {REASONS.get(status, 'Error')}",
                                   [("Content-Type", "application/x-amz-json-1.0"),
                                    ("Content-Length", str(len(body)))])
                    return [body]
                xml = ERROR_XML.format(
                    kind="Sender" if status < 500 else "Receiver",
                    code=code,
                    message=message,
                    request_id=uuid.uuid4(),
                ).encode()
                start_response(f"{status} {REASONS.get(status, 'Error')}",
                               [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
                return [xml]
        return app(environ, start_response)

    return middleware


# --- Step Functions: executions run by moto's interpreter, calling back into this emulator ----

def run_state_machines(port: int) -> None:
    """Turns on moto's Step Functions interpreter (as `POST /moto-api/config` would) and sends its
    aws-sdk Task states to this server on 127.0.0.1:`port` (moto would use `localhost`, which may
    resolve to another address, and port 5000)."""
    import boto3
    from botocore.config import Config
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.utils import boto_client as sfn_clients

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    os.environ["MOTO_PORT"] = str(port)
    # Every failed state (a throttled call that its Retry then waits out, an iteration a stopped
    # execution aborts) is logged with the repr of the whole state machine; the execution's
    # history has what matters.
    import logging

    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(
        logging.CRITICAL
    )

    def boto_client_for(region: str, service: str, state_credentials: Any = None):
        return boto3.client(
            service_name=service,
            region_name=region,
            aws_access_key_id="ak",
            aws_secret_access_key="sk",
            endpoint_url=f"http://127.0.0.1:{port}",
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=60,
                read_timeout=60,
            ),
        )

    sfn_clients.boto_client_for = boto_client_for
    # The Task state module imported the function by name: patch it there too.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    aws_sdk.boto_client_for = boto_client_for
