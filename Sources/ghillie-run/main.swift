import CLI
import Evidence
import Export
import Foundation
import Ingest
import Pipeline
import Refine
import Report

// The product binary: the stages this version ships. Stage implementations register here.
let environment = ProcessInfo.processInfo.environment
let stages = StageSet([
    IngestStage(environment: environment), RefineStage(), EvidenceStage(), ReportStage(environment: environment),
    ExportStage(),
])
let status = await Entry.main(stages: stages)
exit(status)
