import PGClient

/// Any JSON value, kept as decoded: how an event's `data.object` is held besides its typed views, so handlers can
/// read a field this module has no typed property for, and the object can be stored as it came.
public typealias StripeJSON = JSONValue
