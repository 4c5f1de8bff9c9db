/// Frames come whole in streaming mode too: see `StreamingFrameDecoder`.
extension LinesFrameDecoder: StreamingFrameDecoder {}
