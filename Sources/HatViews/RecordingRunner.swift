// How the views and the terminal get a new forward pass without importing the engine: the
// executable (which loaded the model and the input) hands them this closure. It runs the loaded
// model on the loaded input with the given interventions — the whole list, none = the plain
// forward — and returns the new recording; it may be called from any thread and may throw (an
// intervention that does not apply, memory).
import HatRecording

public typealias RecordingRunner = @Sendable ([Intervention]) throws -> Recording
