import Telegram

extension StarsAdminRefundError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .unknownCharge:
            .notFound("no Telegram Stars payment with this telegram_payment_charge_id")
        case .inProgress:
            .conflict("a refund of this charge is in progress; try again shortly")
        case .provider(let error):
            ProblemError(
                .badGateway,
                detail: "Telegram did not refund the payment (\(error.apiDescription ?? error.kind.rawValue)); "
                    + "the request may be repeated")
        }
    }
}
