import CLI
import Foundation
import Pipeline

// The product binary: the stages this version ships. Stage implementations register here.
let status = await Entry.main(stages: StageSet([]))
exit(status)
