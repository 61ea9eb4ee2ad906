import CLI
import Evidence
import Export
import Foundation
import Ingest
import Pipeline
import Refine

// The product binary: the stages this version ships. Stage implementations register here.
let stages = StageSet([IngestStage(environment: ProcessInfo.processInfo.environment), RefineStage(), EvidenceStage(),
                       ExportStage()])
let status = await Entry.main(stages: stages)
exit(status)
