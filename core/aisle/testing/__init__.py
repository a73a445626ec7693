"""Conformance suites and fixtures for plugin authors.

A plugin's test module subclasses the suite of its hook kind and overrides the fixtures
that say what to test and how to reach its sandbox; checks for capabilities the plugin
does not claim are skipped with the reason it gives in ``unsupported``. The fixtures
of the pytest plugin (``aisle_clock``, ``aisle_registry``, ``aisle_store``,
``aisle_runtime``, ``aisle_jobs``, ``aisle_client``…) load automatically once ``aisle``
is installed.
"""

from aisle.testing.action_suite import ActionExecutorSuite, ContextFactory, Effect, FailureCase
from aisle.testing.crm_suite import (
    PROVIDER_CAPABILITIES,
    CRMProviderSuite,
    FakeRemote,
    is_contact_field,
)
from aisle.testing.fake_crm import FakeCRMServer
from aisle.testing.harness import InProcessJobs, Studio
from aisle.testing.http_server import HTTPReceiver, LocalHTTPServer, ReceivedRequest, Reply
from aisle.testing.journeys import EDGE, ENROLLMENT, NEXT, SOURCE, TARGET, UNDER_TEST
from aisle.testing.node_suite import NodeTypeSuite
from aisle.testing.registration_suite import ConfigCase, RegistrationSuite
from aisle.testing.requirements import CapabilitySuite, requires
from aisle.testing.samples import SAMPLE_NOW, sample_contact, sample_studio
from aisle.testing.services import (
    RecordedEvent,
    RecordedMessage,
    RecordedTask,
    RecordingServices,
)
from aisle.testing.source_suite import SOURCE_SUITE_CAPABILITIES, EventSourceSuite, Signer
from aisle.testing.trigger_suite import UNDECLARED_EVENT, TriggerTypeSuite

__all__ = [
    "EDGE",
    "ENROLLMENT",
    "NEXT",
    "PROVIDER_CAPABILITIES",
    "SAMPLE_NOW",
    "SOURCE",
    "SOURCE_SUITE_CAPABILITIES",
    "TARGET",
    "UNDECLARED_EVENT",
    "UNDER_TEST",
    "ActionExecutorSuite",
    "CRMProviderSuite",
    "CapabilitySuite",
    "ConfigCase",
    "ContextFactory",
    "Effect",
    "EventSourceSuite",
    "FailureCase",
    "FakeCRMServer",
    "FakeRemote",
    "HTTPReceiver",
    "InProcessJobs",
    "LocalHTTPServer",
    "NodeTypeSuite",
    "ReceivedRequest",
    "RecordedEvent",
    "RecordedMessage",
    "RecordedTask",
    "RecordingServices",
    "RegistrationSuite",
    "Reply",
    "Signer",
    "Studio",
    "TriggerTypeSuite",
    "is_contact_field",
    "requires",
    "sample_contact",
    "sample_studio",
]
