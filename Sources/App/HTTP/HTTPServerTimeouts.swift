import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// How long a client may keep a connection without making progress (issue #22). Not configurable from the
/// environment; tests shorten them through `AppConfig.httpTimeouts`.
struct HTTPTimeouts: Sendable {
    /// A keep-alive connection with no request in progress is closed after this long (Hummingbird's idle timeout;
    /// it also bounds a connection that never sends a byte).
    var idle: Duration = .seconds(60)
    /// From the first byte of a request to the end of its header block.
    var header: Duration = .seconds(10)
    /// From the end of the header block to the end of the body.
    var body: Duration = .seconds(30)
}

/// HTTP/1.1 as Hummingbird's `HTTP1Channel` serves it, with the idle timeout set and two read deadlines added in
/// front: a request's headers must arrive within `header` of its first byte, and its body within `body` of the
/// headers. A client that misses either is disconnected (nothing is answered: it is not reading a response
/// anyway, and whatever it sent so far is not a request). Requests being answered are never timed out here.
struct TimedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let responder: HTTPChannelHandler.Responder
    let timeouts: HTTPTimeouts

    static func builder(_ timeouts: HTTPTimeouts) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in TimedHTTP1Channel(responder: responder, timeouts: timeouts) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timeouts = self.timeouts
        let responder = self.responder
        return channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<ReadDeadlineHandler> in
            // First in the pipeline: it sees raw bytes, so it notices a request that has started but whose header
            // block never completes.
            let deadlines = ReadDeadlineHandler(
                header: TimeAmount(timeouts.header), body: TimeAmount(timeouts.body), logger: logger)
            try channel.pipeline.syncOperations.addHandler(deadlines)
            return NIOLoopBound(deadlines, eventLoop: channel.eventLoop)
        }.flatMap { deadlines in
            let configuration = HTTP1Channel.Configuration(
                additionalChannelHandlers: [RequestPartObserver(deadlines: deadlines.value)],
                idleTimeout: TimeAmount(timeouts.idle))
            return HTTP1Channel(responder: responder, configuration: configuration).setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// Raw-byte side of the read deadlines. The first byte of a request (when none is in progress) starts the header
/// deadline; `RequestPartObserver`, after the HTTP decoder, reports the head (header deadline off, body deadline
/// on) and the end (body deadline off). Lives on the channel's event loop only.
final class ReadDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase { case betweenRequests, readingHead, readingBody }

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let logger: Logger
    private var phase = Phase.betweenRequests
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(header: TimeAmount, body: TimeAmount, logger: Logger) {
        self.headerTimeout = header
        self.bodyTimeout = body
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .betweenRequests, unwrapInboundIn(data).readableBytes > 0 {
            phase = .readingHead
            arm(headerTimeout, what: "header")
        }
        // The decoder runs synchronously inside this call, so `headReceived`/`endReceived` may follow at once.
        context.fireChannelRead(data)
    }

    /// The HTTP decoder produced a request head.
    func headReceived() {
        phase = .readingBody
        cancelTimer()
        arm(bodyTimeout, what: "body")
    }

    /// The HTTP decoder produced the end of a request.
    func endReceived() {
        phase = .betweenRequests
        cancelTimer()
    }

    private func arm(_ timeout: TimeAmount, what: String) {
        guard let context else { return }
        let logger = self.logger
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            timer = nil
            logger.debug("closing a connection: request \(what) not received in time")
            self.context?.close(promise: nil)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

/// Tells `ReadDeadlineHandler` where the decoder is: after `HTTP1ToHTTPServerCodec`, before Hummingbird's own
/// handlers. Passes everything on unchanged.
final class RequestPartObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadlines: ReadDeadlineHandler

    init(deadlines: ReadDeadlineHandler) { self.deadlines = deadlines }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headReceived()
        case .body: break
        case .end: deadlines.endReceived()
        }
        context.fireChannelRead(data)
    }
}
