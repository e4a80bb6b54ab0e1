"""Tests of the emulator itself, through boto3 over real HTTP: each correction to moto has one, so
an upgrade of moto shows exactly what broke. Run: .venv/bin/python -m unittest discover tests/emulator
"""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))

TEMPLATE = """
Parameters:
  Name:
    Type: String
  Retention:
    Type: Number
    Default: 345600
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2-default
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${Name}-q"
      MessageRetentionPeriod: !Ref Retention
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${Name}-t"
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""


def failing(template: str, resource: str, phases: str, reason: str) -> str:
    """The template with an injected failure on one resource."""
    marker = f"  {resource}:\n"
    inject = (
        f"  {resource}:\n    Metadata:\n      cfdeploy-emulator:\n"
        f"        fail-on: [{phases}]\n        reason: \"{reason}\"\n"
    )
    assert marker in template
    return template.replace(marker, inject, 1)


class EmulatorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = cls.proc.stdout.readline().strip()
        assert line.startswith("CFDEPLOY_EMULATOR_ENDPOINT=http://127.0.0.1:"), line
        cls.endpoint = line.split("=", 1)[1]
        cls.cfn = boto3.client(
            "cloudformation",
            endpoint_url=cls.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)

    def setUp(self):
        self.control("DELETE", "/_emulator/faults")
        self.control("POST", "/_emulator/settings", {"delay": 0, "rate_limit": 0})

    def control(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    # helpers -----------------------------------------------------------------------------------

    def name(self):
        return "t" + uuid.uuid4().hex[:10]

    def change_set(self, stack, template=TEMPLATE, kind="CREATE", params=None, name=None):
        params = params if params is not None else {"Name": stack}
        out = self.cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name or "cs-" + uuid.uuid4().hex[:8],
            ChangeSetType=kind,
            TemplateBody=template,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        )
        return out["Id"]

    def wait_change_set(self, arn):
        for _ in range(200):
            cs = self.cfn.describe_change_set(ChangeSetName=arn, IncludePropertyValues=True)
            if cs["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                return cs
            time.sleep(0.05)
        self.fail("change set never settled")

    def wait_stack(self, stack):
        for _ in range(400):
            status = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
            if not status.endswith("_IN_PROGRESS") or status == "REVIEW_IN_PROGRESS":
                return status
            time.sleep(0.05)
        self.fail("stack never settled")

    def deploy(self, stack, template=TEMPLATE, params=None):
        arn = self.change_set(stack, template, params=params)
        self.assertEqual(self.wait_change_set(arn)["Status"], "CREATE_COMPLETE")
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(self.wait_stack(stack), "CREATE_COMPLETE")

    def events(self, stack):
        return self.cfn.describe_stack_events(StackName=stack)["StackEvents"]

    # change sets -------------------------------------------------------------------------------

    def test_change_set_names_are_scoped_to_their_stack(self):
        a, b = self.name(), self.name()
        arn_a = self.change_set(a, name="same")
        arn_b = self.change_set(b, name="same")
        self.assertNotEqual(arn_a, arn_b)
        by_name = self.cfn.describe_change_set(ChangeSetName="same", StackName=b)
        self.assertEqual(by_name["ChangeSetId"], arn_b)
        listed = self.cfn.list_change_sets(StackName=a)["Summaries"]
        self.assertEqual([s["ChangeSetId"] for s in listed], [arn_a])

    def test_create_change_set_reuses_a_review_stack_and_refuses_a_live_one(self):
        stack = self.name()
        self.change_set(stack)
        self.change_set(stack)
        same_name = [s for s in self.cfn.describe_stacks()["Stacks"] if s["StackName"] == stack]
        self.assertEqual(len(same_name), 1)
        self.cfn.execute_change_set(ChangeSetName=self.change_set(stack))
        self.wait_stack(stack)
        with self.assertRaises(ClientError) as err:
            self.change_set(stack)
        self.assertIn("already exists", str(err.exception))

    def test_changes_carry_physical_id_replacement_and_details(self):
        stack = self.name()
        self.deploy(stack)
        renamed = TEMPLATE.replace('TopicName: !Sub "${Name}-t"', 'TopicName: !Sub "${Name}-topic"')
        cs = self.wait_change_set(self.change_set(stack, renamed, "UPDATE"))
        (change,) = [c["ResourceChange"] for c in cs["Changes"]]
        self.assertEqual(change["Action"], "Modify")
        self.assertEqual(change["LogicalResourceId"], "Topic")
        self.assertTrue(change["PhysicalResourceId"].startswith("arn:aws:sns:"))
        self.assertEqual(change["Replacement"], "True")
        self.assertEqual(change["Scope"], ["Properties"])
        (detail,) = change["Details"]
        self.assertEqual(detail["Target"]["Name"], "TopicName")
        self.assertEqual(detail["Target"]["RequiresRecreation"], "Always")
        self.assertEqual(detail["Target"]["BeforeValue"], f"{stack}-t")
        self.assertEqual(detail["Target"]["AfterValue"], f"{stack}-topic")
        plain = self.cfn.describe_change_set(ChangeSetName=cs["ChangeSetId"])
        self.assertNotIn("BeforeValue", plain["Changes"][0]["ResourceChange"]["Details"][0]["Target"])

    def test_a_key_schema_change_replaces_a_table_as_the_documentation_says(self):
        stack = self.name()
        table = (
            "Parameters:\n  Key: {Type: String, Default: id}\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
            "    Properties:\n      BillingMode: PAY_PER_REQUEST\n"
            "      AttributeDefinitions: [{AttributeName: !Ref Key, AttributeType: S}]\n"
            "      KeySchema: [{AttributeName: !Ref Key, KeyType: HASH}]\n"
        )
        self.deploy(stack, table, params={})
        cs = self.wait_change_set(self.change_set(stack, table, "UPDATE", params={"Key": "pk"}))
        (change,) = [c["ResourceChange"] for c in cs["Changes"]]
        self.assertEqual(change["Replacement"], "True")
        recreations = {d["Target"]["Name"]: d["Target"]["RequiresRecreation"] for d in change["Details"]}
        self.assertEqual(recreations["KeySchema"], "Always")

    def test_a_parameter_only_change_is_reported(self):
        stack = self.name()
        self.deploy(stack)
        cs = self.wait_change_set(
            self.change_set(stack, kind="UPDATE", params={"Name": stack, "Retention": "60"})
        )
        (change,) = [c["ResourceChange"] for c in cs["Changes"]]
        self.assertEqual(change["LogicalResourceId"], "Queue")
        self.assertEqual(change["Replacement"], "False")
        detail = change["Details"][0]
        self.assertEqual(detail["ChangeSource"], "ParameterReference")
        self.assertEqual(detail["CausingEntity"], "Retention")

    def test_no_change_update_fails_with_the_real_reason_however_parameters_are_passed(self):
        stack = self.name()
        self.deploy(stack)
        explicit = self.wait_change_set(
            self.change_set(stack, kind="UPDATE", params={"Name": stack, "Retention": "345600"})
        )
        self.assertEqual(explicit["Status"], "FAILED")
        self.assertIn("didn't contain changes", explicit["StatusReason"])
        out = self.cfn.create_change_set(
            StackName=stack, ChangeSetName="prev", ChangeSetType="UPDATE", TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": "Name", "UsePreviousValue": True}],
        )
        previous = self.wait_change_set(out["Id"])
        self.assertEqual(previous["Status"], "FAILED")
        self.assertIn("didn't contain changes", previous["StatusReason"])

    def test_a_resource_without_properties_does_not_make_an_unchanged_template_a_change(self):
        stack = self.name()
        bare = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        self.deploy(stack, template=bare, params={})
        again = self.wait_change_set(self.change_set(stack, bare, kind="UPDATE", params={}))
        self.assertEqual(again["Status"], "FAILED")
        self.assertIn("didn't contain changes", again["StatusReason"])

    def test_a_failed_or_executed_change_set_cannot_be_executed(self):
        stack = self.name()
        self.deploy(stack)
        failed = self.change_set(stack, kind="UPDATE")
        with self.assertRaises(ClientError) as err:
            self.cfn.execute_change_set(ChangeSetName=failed)
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidChangeSetStatus")

    def test_executing_one_change_set_obsoletes_the_others_then_removes_them(self):
        stack = self.name()
        self.deploy(stack)
        first = self.change_set(stack, kind="UPDATE", params={"Name": stack, "Retention": "60"})
        second = self.change_set(stack, kind="UPDATE", params={"Name": stack, "Retention": "120"})
        self.control("POST", "/_emulator/settings", {"delay": 0.3})
        self.cfn.execute_change_set(ChangeSetName=first)
        other = self.cfn.describe_change_set(ChangeSetName=second)
        self.assertEqual(other["ExecutionStatus"], "OBSOLETE")
        self.assertEqual(self.wait_stack(stack), "UPDATE_COMPLETE")
        self.assertEqual(self.cfn.list_change_sets(StackName=stack)["Summaries"], [])

    def test_a_changeset_phase_failure_makes_the_change_set_failed(self):
        stack = self.name()
        cs = self.wait_change_set(
            self.change_set(stack, failing(TEMPLATE, "Topic", "changeset", "Template error: nope"))
        )
        self.assertEqual(cs["Status"], "FAILED")
        self.assertEqual(cs["StatusReason"], "Template error: nope")

    # execution ---------------------------------------------------------------------------------

    def test_an_injected_create_failure_rolls_back_with_per_resource_events(self):
        stack = self.name()
        template = failing(TEMPLATE, "Queue", "create", "Queue quota exceeded")
        arn = self.change_set(stack, template)
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(self.wait_stack(stack), "ROLLBACK_COMPLETE")
        events = self.events(stack)
        statuses = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        root = [e for e in failed if e["LogicalResourceId"] == "Queue"]
        self.assertEqual(root[0]["ResourceStatusReason"], "Queue quota exceeded")
        cancelled = [e for e in failed if e.get("ResourceStatusReason") == "Resource creation cancelled"]
        self.assertEqual([e["LogicalResourceId"] for e in cancelled], ["Topic"])
        self.assertIn((stack, "ROLLBACK_IN_PROGRESS"), statuses)
        self.assertIn(("Queue", "DELETE_COMPLETE"), statuses)
        self.assertEqual(statuses[-1], (stack, "ROLLBACK_COMPLETE"))
        self.assertEqual(self.cfn.list_change_sets(StackName=stack)["Summaries"], [])

    def test_an_update_failure_rolls_back_to_the_previous_template(self):
        stack = self.name()
        self.deploy(stack)
        broken = failing(TEMPLATE, "Topic", "update", "Topic policy invalid").replace(
            'TopicName: !Sub "${Name}-t"', 'TopicName: !Sub "${Name}-t2"'
        )
        arn = self.change_set(stack, broken, "UPDATE")
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(self.wait_stack(stack), "UPDATE_ROLLBACK_COMPLETE")
        failed = [e for e in self.events(stack) if e["ResourceStatus"] == "UPDATE_FAILED"]
        self.assertEqual(failed[0]["ResourceStatusReason"], "Topic policy invalid")
        body = self.cfn.get_template(StackName=stack)["TemplateBody"]
        self.assertNotIn("-t2", json.dumps(body))

    def test_a_failed_rollback_is_repaired_by_continuing_it_with_skipped_resources(self):
        stack = self.name()
        self.deploy(stack)
        broken = failing(TEMPLATE, "Topic", "update, rollback", "Service unavailable").replace(
            'TopicName: !Sub "${Name}-t"', 'TopicName: !Sub "${Name}-t2"'
        )
        arn = self.change_set(stack, broken, "UPDATE")
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(self.wait_stack(stack), "UPDATE_ROLLBACK_FAILED")
        self.cfn.continue_update_rollback(StackName=stack, ResourcesToSkip=["Topic"])
        self.assertEqual(self.wait_stack(stack), "UPDATE_ROLLBACK_COMPLETE")
        skipped = [e for e in self.events(stack)
                   if e.get("ResourceStatusReason") == "Resource skipped during UpdateRollback"]
        self.assertEqual([e["LogicalResourceId"] for e in skipped], ["Topic"])

    def test_with_rollback_disabled_a_failed_create_stays_until_rolled_back(self):
        stack = self.name()
        arn = self.change_set(stack, failing(TEMPLATE, "Topic", "create", "boom"))
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn, DisableRollback=True)
        self.assertEqual(self.wait_stack(stack), "CREATE_FAILED")
        self.cfn.rollback_stack(StackName=stack)
        self.assertEqual(self.wait_stack(stack), "ROLLBACK_COMPLETE")

    def test_the_delay_keeps_change_sets_and_operations_in_progress(self):
        self.control("POST", "/_emulator/settings", {"delay": 0.4})
        stack = self.name()
        arn = self.change_set(stack)
        self.assertEqual(self.cfn.describe_change_set(ChangeSetName=arn)["Status"], "CREATE_PENDING")
        self.wait_change_set(arn)
        started = time.monotonic()
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(
            self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"], "CREATE_IN_PROGRESS"
        )
        self.assertEqual(self.wait_stack(stack), "CREATE_COMPLETE")
        self.assertGreaterEqual(time.monotonic() - started, 0.8)  # two resources, 0.4 s each

    def test_cancel_update_stack_rolls_the_update_back(self):
        stack = self.name()
        self.deploy(stack)
        self.control("POST", "/_emulator/settings", {"delay": 0.3})
        renamed = TEMPLATE.replace("-q\"", "-queue\"").replace("-t\"", "-topic\"")
        arn = self.change_set(stack, renamed, "UPDATE")
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.cfn.cancel_update_stack(StackName=stack)
        self.assertEqual(self.wait_stack(stack), "UPDATE_ROLLBACK_COMPLETE")
        reasons = [e.get("ResourceStatusReason") for e in self.events(stack)]
        self.assertIn("Stack update cancelled", reasons)

    def test_outputs_exist_after_a_create_and_follow_an_update(self):
        stack = self.name()
        self.deploy(stack)
        outputs = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
        self.assertTrue(outputs[0]["OutputValue"].endswith(f"{stack}-q"))
        more = TEMPLATE + "  TopicArn:\n    Value: !Ref Topic\n"
        arn = self.change_set(stack, more, "UPDATE")
        self.wait_change_set(arn)
        self.cfn.execute_change_set(ChangeSetName=arn)
        self.assertEqual(self.wait_stack(stack), "UPDATE_COMPLETE")
        outputs = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
        by_key = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        self.assertTrue(by_key["TopicArn"].endswith(f":{stack}-t"), by_key)

    def test_termination_protection_is_enforced(self):
        stack = self.name()
        self.deploy(stack)
        self.cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=True)
        with self.assertRaises(ClientError) as err:
            self.cfn.delete_stack(StackName=stack)
        self.assertIn("TerminationProtection", str(err.exception))
        self.cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=False)
        self.cfn.delete_stack(StackName=stack)

    def test_no_echo_values_are_masked_in_describe_stacks(self):
        stack = self.name()
        self.deploy(stack, params={"Name": stack, "Secret": "s3cr3t-value"})
        params = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
        self.assertIn({"ParameterKey": "Secret", "ParameterValue": "****"}, params)
        self.assertNotIn("s3cr3t-value", json.dumps(params))

    def test_stack_events_are_newest_first_and_paginated(self):
        stack = self.name()
        self.deploy(stack)
        for n in range(20):
            arn = self.change_set(stack, kind="UPDATE", params={"Name": stack, "Retention": str(100 + n)})
            self.wait_change_set(arn)
            self.cfn.execute_change_set(ChangeSetName=arn)
            self.wait_stack(stack)
        first = self.cfn.describe_stack_events(StackName=stack)
        self.assertEqual(len(first["StackEvents"]), 100)
        self.assertIn("NextToken", first)
        newest = first["StackEvents"][0]
        self.assertEqual((newest["LogicalResourceId"], newest["ResourceStatus"]), (stack, "UPDATE_COMPLETE"))

    # faults ------------------------------------------------------------------------------------

    def test_armed_throttling_answers_rate_exceeded_for_the_next_n_calls(self):
        self.control("POST", "/_emulator/faults", {"action": "DescribeStacks", "count": 2, "kind": "throttle"})
        for _ in range(2):
            with self.assertRaises(ClientError) as err:
                self.cfn.describe_stacks()
            self.assertEqual(err.exception.response["Error"]["Code"], "Throttling")
            self.assertEqual(err.exception.response["Error"]["Message"], "Rate exceeded")
            self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.cfn.describe_stacks()

    def test_a_fault_armed_after_n_requests_lets_them_through_first(self):
        self.control("POST", "/_emulator/faults",
                     {"action": "DescribeStacks", "count": 1, "kind": "throttle", "after": 2})
        self.cfn.describe_stacks()
        self.cfn.describe_stacks()
        with self.assertRaises(ClientError) as err:
            self.cfn.describe_stacks()
        self.assertEqual(err.exception.response["Error"]["Code"], "Throttling")
        self.cfn.describe_stacks()
        faults = self.control("GET", "/_emulator/faults")
        self.assertEqual([(f["hits"], f["remaining"], f["after"]) for f in faults], [(1, 0, 0)])

    # request tokens and the faults a deployer must survive ---------------------------------------

    def test_a_retried_execute_with_its_token_is_the_same_request_and_events_carry_it(self):
        stack = self.name()
        arn = self.change_set(stack)
        self.wait_change_set(arn)
        self.control("POST", "/_emulator/faults", {"action": "ExecuteChangeSet", "kind": "lost"})
        with self.assertRaises(Exception):
            self.cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="tok-1")
        # The lost call took effect; the retry with the same token is answered with success.
        self.cfn.execute_change_set(ChangeSetName=arn, ClientRequestToken="tok-1")
        self.assertEqual(self.wait_stack(stack), "CREATE_COMPLETE")
        starts = [e for e in self.events(stack)
                  if e["LogicalResourceId"] == stack and e["ResourceStatus"] == "CREATE_IN_PROGRESS"]
        self.assertEqual(len(starts), 1, "executed once")
        self.assertEqual(starts[0].get("ClientRequestToken"), "tok-1")

    def test_a_retried_create_change_set_with_its_client_token_returns_the_same_change_set(self):
        stack = self.name()
        def create(token):
            return self.cfn.create_change_set(
                StackName=stack, ChangeSetName="same", ChangeSetType="CREATE",
                TemplateBody=TEMPLATE, ClientToken=token,
                Parameters=[{"ParameterKey": "Name", "ParameterValue": stack}])["Id"]
        first = create("tok-a")
        self.assertEqual(create("tok-a"), first)
        with self.assertRaises(ClientError) as err:
            create("tok-b")
        self.assertEqual(err.exception.response["Error"]["Code"], "AlreadyExistsException")

    def test_expired_credentials_and_a_proxys_html_page(self):
        self.control("POST", "/_emulator/faults", {"action": "DescribeStacks", "kind": "expired"})
        with self.assertRaises(ClientError) as err:
            self.cfn.describe_stacks()
        self.assertEqual(err.exception.response["Error"]["Code"], "ExpiredToken")
        self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.control("POST", "/_emulator/faults", {"action": "DescribeStacks", "kind": "html", "status": 403})
        req = urllib.request.Request(self.endpoint + "/", data=b"Action=DescribeStacks", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as http:
            urllib.request.urlopen(req)
        self.assertEqual(http.exception.code, 403)
        self.assertIn(b"<h1>Forbidden</h1>", http.exception.read())

    def test_a_black_holed_request_is_never_answered(self):
        client = boto3.client(
            "cloudformation", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(read_timeout=1, connect_timeout=1,
                          retries={"total_max_attempts": 1, "mode": "standard"}))
        self.control("POST", "/_emulator/faults",
                     {"action": "DescribeStacks", "kind": "blackhole", "seconds": 30})
        started = time.monotonic()
        with self.assertRaises(Exception) as err:
            client.describe_stacks()
        self.assertIn("timeout", type(err.exception).__name__.lower())
        self.assertLess(time.monotonic() - started, 10)

    def test_the_account_wide_rate_limit_throttles_every_action_past_it(self):
        self.control("POST", "/_emulator/settings", {"rate_limit": 5})
        answers = []
        for _ in range(20):
            try:
                self.cfn.list_stacks()
                answers.append("ok")
            except ClientError as err:
                answers.append(err.response["Error"]["Code"])
        self.assertIn("Throttling", answers)
        self.assertGreaterEqual(answers.count("ok"), 4)
        counted = self.control("GET", "/_emulator/requests")
        self.assertGreater(counted["_throttled"], 0)

    def test_armed_errors_latency_and_dropped_connections(self):
        self.control("POST", "/_emulator/faults",
                     {"action": "ListStacks", "kind": "error", "status": 503, "code": "ServiceUnavailable"})
        with self.assertRaises(ClientError) as err:
            self.cfn.list_stacks()
        self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        self.control("POST", "/_emulator/faults", {"action": "ListStacks", "kind": "latency", "seconds": 0.5})
        started = time.monotonic()
        self.cfn.list_stacks()
        self.assertGreaterEqual(time.monotonic() - started, 0.5)
        self.control("POST", "/_emulator/faults", {"action": "ListStacks", "kind": "drop"})
        with self.assertRaises(Exception):
            self.cfn.list_stacks()
        self.cfn.list_stacks()


    # delete ------------------------------------------------------------------------------------

    def test_a_failed_delete_is_retried_retaining_what_failed(self):
        template = json.dumps({
            "Resources": {
                "Keep": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain"},
                "Stuck": {"Type": "AWS::SQS::Queue",
                          "Metadata": {"cfdeploy-emulator": {"fail-on": ["delete"], "reason": "in use"}}},
                "Gone": {"Type": "AWS::SQS::Queue"},
            }
        })
        stack = self.name()
        self.deploy(stack, template, params={})
        stack_id = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
        with self.assertRaises(Exception):
            self.cfn.delete_stack(StackName=stack, RetainResources=["Stuck"])
        self.cfn.delete_stack(StackName=stack, ClientRequestToken="del-1")
        self.assertEqual(self.wait_stack(stack), "DELETE_FAILED")
        seen = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in self.events(stack)]
        self.assertIn(("Keep", "DELETE_SKIPPED"), seen)
        self.assertIn(("Stuck", "DELETE_FAILED"), seen)
        self.assertIn(("Gone", "DELETE_COMPLETE"), seen)
        self.cfn.delete_stack(StackName=stack, ClientRequestToken="del-2", RetainResources=["Stuck"])
        self.assertEqual(self.wait_stack(stack_id), "DELETE_COMPLETE")
        finals = [e for e in self.events(stack_id)
                  if e["LogicalResourceId"] == stack and e["ResourceStatus"] == "DELETE_COMPLETE"]
        self.assertEqual([e.get("ClientRequestToken") for e in finals], ["del-2"])


    # drift -------------------------------------------------------------------------------------

    def test_drift_armed_on_a_resource_is_what_detection_reports(self):
        stack = self.name()
        self.deploy(stack)
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(
            self.endpoint + "/_emulator/drift", method="POST",
            data=json.dumps({"stack": stack, "resource": "Queue", "differences": [
                {"path": "/VisibilityTimeout", "expected": "30", "actual": "45"}]}).encode()))
        detection = self.cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
        status = self.cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        self.assertEqual(status["DetectionStatus"], "DETECTION_COMPLETE")
        self.assertEqual(status["StackDriftStatus"], "DRIFTED")
        drifts = self.cfn.describe_stack_resource_drifts(
            StackName=stack, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"])["StackResourceDrifts"]
        self.assertEqual([d["LogicalResourceId"] for d in drifts], ["Queue"])
        diff = drifts[0]["PropertyDifferences"][0]
        self.assertEqual((diff["PropertyPath"], diff["ExpectedValue"], diff["ActualValue"]),
                         ("/VisibilityTimeout", "30", "45"))


    def test_a_state_machine_execution_runs_its_cloudformation_tasks_against_this_emulator(self):
        # moto's interpreter is on, and its aws-sdk Task states call this server on 127.0.0.1
        # (stock moto: off, and `localhost:5000`).
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stack = self.name()
        arn = self.change_set(stack)
        definition = {
            "StartAt": "Execute",
            "States": {
                "Execute": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:cloudformation:executeChangeSet",
                    "Parameters": {"ChangeSetName": arn, "ClientRequestToken": "tok-" + stack},
                    "ResultPath": None,
                    "Next": "Describe",
                },
                "Describe": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:cloudformation:describeStacks",
                    "Parameters": {"StackName": stack},
                    "ResultSelector": {"statuses.$": "$.Stacks[*].StackStatus"},
                    "End": True,
                },
            },
        }
        machine = sfn.create_state_machine(
            name=self.name(),
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/r",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name=self.name())["executionArn"]
        for _ in range(100):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.1)
        self.assertEqual(described["status"], "SUCCEEDED", described.get("cause"))
        self.assertEqual(json.loads(described["output"])["statuses"][0][:7], "CREATE_")
        events = self.cfn.describe_stack_events(StackName=stack)["StackEvents"]
        self.assertIn("tok-" + stack, {e.get("ClientRequestToken") for e in events})


    def test_faults_reach_json_protocol_actions_and_answer_in_json(self):
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        self.control("POST", "/_emulator/faults",
                     {"action": "ListStateMachines", "kind": "throttle", "count": 1})
        with self.assertRaises(ClientError) as caught:
            sfn.list_state_machines()
        self.assertEqual(caught.exception.response["Error"]["Code"], "ThrottlingException")
        sfn.list_state_machines()  # the fault is spent


if __name__ == "__main__":
    unittest.main()
