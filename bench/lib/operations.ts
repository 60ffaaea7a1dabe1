/** The GraphQL the bench sends, as a client would write it; field sets follow operations/*.graphql. */

export const PHONE_AUTHENTICATOR = `query PhoneAuthenticator {
  phoneAuthenticator { status methods usage codeLength codeTtlSeconds maxAttempts resendCooldownSeconds maxResends allowVoip }
}`;

export const HELLO = "query Hello { hello }";

export const CREATE_USER = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id login status } }`;

export const ENROLL_PHONE_FACTOR = `mutation EnrollPhoneFactor($input: EnrollPhoneFactorInput!) {
  enrollPhoneFactor(input: $input) { factor { id status } challenge { id status } }
}`;

export const ACTIVATE_PHONE_FACTOR = `mutation ActivatePhoneFactor($input: ActivatePhoneFactorInput!) { activatePhoneFactor(input: $input) { id status } }`;

export const CHALLENGE_PHONE_FACTOR = `mutation ChallengePhoneFactor($input: ChallengePhoneFactorInput!) {
  challengePhoneFactor(input: $input) { id status attemptsRemaining expiresAt }
}`;

export const VERIFY_CHALLENGE = `mutation VerifyChallenge($input: VerifyChallengeInput!) { verifyChallenge(input: $input) { id status } }`;

export const UPDATE_POLICY = `mutation UpdatePolicy($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { id } }`;

const TRANSACTION_FIELDS = "stateHandle status factors { factorId method } challenge { id status } sessionToken";
export const SIGN_IN = `mutation SignIn($input: SignInInput!) { signIn(input: $input) { ${TRANSACTION_FIELDS} } }`;
export const CHALLENGE_FACTOR = `mutation ChallengeFactor($input: TransactionChallengeInput!) { challengeFactor(input: $input) { ${TRANSACTION_FIELDS} } }`;
export const VERIFY_FACTOR = `mutation VerifyFactor($input: TransactionCodeInput!) { verifyFactor(input: $input) { ${TRANSACTION_FIELDS} } }`;

export const SYSTEM_LOG_SUBSCRIPTION = "subscription SystemLog { systemLog { uuid published eventType } }";

export const LOGS = `query Logs($filter: String, $first: Int) {
  logs(filter: $filter, first: $first) {
    edges { cursor node { uuid published eventType displayMessage severity actor { id type alternateId displayName }
      target { id type alternateId displayName } outcome { result reason } client { ipAddress userAgent } debugContext transactionId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface TransactionView {
  stateHandle: string;
  status: string;
  factors: { factorId: string; method: string }[];
  challenge: { id: string; status: string } | null;
  sessionToken: string | null;
}
