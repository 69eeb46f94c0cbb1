/** Temporary AWS credentials as STS issues them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  /** Present when known (from the assumed-role ARN); the JS SDK reads it from credential_process output. */
  readonly accountId?: string | undefined;
}

/** What STS said about the session besides the keys. */
export interface AssumedRole {
  readonly credentials: AwsCredentials;
  readonly assumedRoleArn: string;
  readonly assumedRoleId: string;
  readonly subjectFromWebIdentityToken?: string | undefined;
  readonly provider?: string | undefined;
  readonly audience?: string | undefined;
}
