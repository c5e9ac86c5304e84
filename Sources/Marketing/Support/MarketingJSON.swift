import PGClient

/// A JSON value, as stored in `marketing_clicks.metadata`.
public typealias MarketingJSON = JSONValue
