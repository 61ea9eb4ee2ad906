import CLI
import Foundation
import TestStages

// ghillie-run with test-only stages, for end-to-end tests and benchmarks. Not a product.
let status = await Entry.main(stages: TestStage.all())
exit(status)
