//! EC2's error codes ([AWS docs: Amazon EC2 API Reference, "Error codes for the Amazon EC2
//! API"](https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)): every
//! code the EC2 handlers answer, as data. EC2 answers client errors with HTTP 400, except a
//! `DryRun` that would have succeeded (412, `DryRunOperation`).

use crate::error::ApiError;
use crate::services::errors::ErrorCode;

/// Every code the EC2 handlers answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2Error {
    /// A `DryRun` request that would have succeeded.
    DryRunOperation,
    /// `AuthFailure`.
    AuthFailure,
    /// `CannotDelete`.
    CannotDelete,
    /// The resource is still in use by another.
    DependencyViolation,
    /// A client token reused with different arguments.
    IdempotentParameterMismatch,
    /// The instance is not in a state that allows the call.
    IncorrectInstanceState,
    /// The resource is not in a state that allows the call.
    IncorrectState,
    /// `InstanceLimitExceeded`.
    InstanceLimitExceeded,
    /// `InsufficientFreeAddressesInSubnet`.
    InsufficientFreeAddressesInSubnet,
    /// `InvalidAMIAttributeItemValue`.
    InvalidAMIAttributeItemValue,
    /// `InvalidAMIID.Malformed`.
    InvalidAMIIDMalformed,
    /// `InvalidAMIID.NotFound`.
    InvalidAMIIDNotFound,
    /// `InvalidAMIID.Unavailable`.
    InvalidAMIIDUnavailable,
    /// `InvalidAMIName.Duplicate`.
    InvalidAMINameDuplicate,
    /// `InvalidAMIName.Malformed`.
    InvalidAMINameMalformed,
    /// `InvalidAssociationID.NotFound`.
    InvalidAssociationIDNotFound,
    /// `InvalidBlockDeviceMapping`.
    InvalidBlockDeviceMapping,
    /// `InvalidGroup.Duplicate`.
    InvalidGroupDuplicate,
    /// `InvalidGroup.NotFound`.
    InvalidGroupNotFound,
    /// `InvalidID`.
    InvalidID,
    /// `InvalidIPAddress.InUse`.
    InvalidIPAddressInUse,
    /// `InvalidInstanceID.Malformed`.
    InvalidInstanceIDMalformed,
    /// `InvalidInstanceID.NotFound`.
    InvalidInstanceIDNotFound,
    /// `InvalidInstanceType`.
    InvalidInstanceType,
    /// `InvalidInternetGatewayID.NotFound`.
    InvalidInternetGatewayIDNotFound,
    /// `InvalidKey.Format`.
    InvalidKeyFormat,
    /// `InvalidKeyPair.Duplicate`.
    InvalidKeyPairDuplicate,
    /// `InvalidKeyPair.NotFound`.
    InvalidKeyPairNotFound,
    /// `InvalidLaunchTemplateId.Malformed`.
    InvalidLaunchTemplateIdMalformed,
    /// `InvalidLaunchTemplateId.NotFound`.
    InvalidLaunchTemplateIdNotFound,
    /// `InvalidLaunchTemplateId.VersionNotFound`.
    InvalidLaunchTemplateIdVersionNotFound,
    /// `InvalidLaunchTemplateName.AlreadyExistsException`.
    InvalidLaunchTemplateNameAlreadyExistsException,
    /// `InvalidLaunchTemplateName.MalformedException`.
    InvalidLaunchTemplateNameMalformedException,
    /// `InvalidLaunchTemplateName.NotFoundException`.
    InvalidLaunchTemplateNameNotFoundException,
    /// `InvalidNetworkInterfaceID.Malformed`.
    InvalidNetworkInterfaceIDMalformed,
    /// `InvalidNetworkInterfaceID.NotFound`.
    InvalidNetworkInterfaceIDNotFound,
    /// Parameters that cannot be given together.
    InvalidParameterCombination,
    /// A parameter value is not valid (EC2's general validation code).
    InvalidParameterValue,
    /// `InvalidPermission.Duplicate`.
    InvalidPermissionDuplicate,
    /// `InvalidPermission.NotFound`.
    InvalidPermissionNotFound,
    /// `InvalidRegion`.
    InvalidRegion,
    /// `InvalidRouteTableID.NotFound`.
    InvalidRouteTableIDNotFound,
    /// `InvalidSecurityGroupRuleId.NotFound`.
    InvalidSecurityGroupRuleIdNotFound,
    /// `InvalidSnapshot.InUse`.
    InvalidSnapshotInUse,
    /// `InvalidSnapshot.NotFound`.
    InvalidSnapshotNotFound,
    /// `InvalidSubnet.Conflict`.
    InvalidSubnetConflict,
    /// `InvalidSubnet.Range`.
    InvalidSubnetRange,
    /// `InvalidSubnetID.NotFound`.
    InvalidSubnetIDNotFound,
    /// `InvalidVolume.NotFound`.
    InvalidVolumeNotFound,
    /// `InvalidVolumeID.Malformed`.
    InvalidVolumeIDMalformed,
    /// `InvalidVpcID.NotFound`.
    InvalidVpcIDNotFound,
    /// A required parameter is missing.
    MissingParameter,
    /// An attribute of the resource forbids the call.
    OperationNotPermitted,
    /// An `ImageId` of `resolve:ssm:…` names a parameter whose data type is not an image.
    SsmInvalidParameter,
    /// `VPCIdNotSpecified`.
    VPCIdNotSpecified,
}

impl ErrorCode for Ec2Error {
    fn code(self) -> &'static str {
        match self {
            Self::DryRunOperation => "DryRunOperation",
            Self::AuthFailure => "AuthFailure",
            Self::CannotDelete => "CannotDelete",
            Self::DependencyViolation => "DependencyViolation",
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            Self::IncorrectInstanceState => "IncorrectInstanceState",
            Self::IncorrectState => "IncorrectState",
            Self::InstanceLimitExceeded => "InstanceLimitExceeded",
            Self::InsufficientFreeAddressesInSubnet => "InsufficientFreeAddressesInSubnet",
            Self::InvalidAMIAttributeItemValue => "InvalidAMIAttributeItemValue",
            Self::InvalidAMIIDMalformed => "InvalidAMIID.Malformed",
            Self::InvalidAMIIDNotFound => "InvalidAMIID.NotFound",
            Self::InvalidAMIIDUnavailable => "InvalidAMIID.Unavailable",
            Self::InvalidAMINameDuplicate => "InvalidAMIName.Duplicate",
            Self::InvalidAMINameMalformed => "InvalidAMIName.Malformed",
            Self::InvalidAssociationIDNotFound => "InvalidAssociationID.NotFound",
            Self::InvalidBlockDeviceMapping => "InvalidBlockDeviceMapping",
            Self::InvalidGroupDuplicate => "InvalidGroup.Duplicate",
            Self::InvalidGroupNotFound => "InvalidGroup.NotFound",
            Self::InvalidID => "InvalidID",
            Self::InvalidIPAddressInUse => "InvalidIPAddress.InUse",
            Self::InvalidInstanceIDMalformed => "InvalidInstanceID.Malformed",
            Self::InvalidInstanceIDNotFound => "InvalidInstanceID.NotFound",
            Self::InvalidInstanceType => "InvalidInstanceType",
            Self::InvalidInternetGatewayIDNotFound => "InvalidInternetGatewayID.NotFound",
            Self::InvalidKeyFormat => "InvalidKey.Format",
            Self::InvalidKeyPairDuplicate => "InvalidKeyPair.Duplicate",
            Self::InvalidKeyPairNotFound => "InvalidKeyPair.NotFound",
            Self::InvalidLaunchTemplateIdMalformed => "InvalidLaunchTemplateId.Malformed",
            Self::InvalidLaunchTemplateIdNotFound => "InvalidLaunchTemplateId.NotFound",
            Self::InvalidLaunchTemplateIdVersionNotFound => {
                "InvalidLaunchTemplateId.VersionNotFound"
            }
            Self::InvalidLaunchTemplateNameAlreadyExistsException => {
                "InvalidLaunchTemplateName.AlreadyExistsException"
            }
            Self::InvalidLaunchTemplateNameMalformedException => {
                "InvalidLaunchTemplateName.MalformedException"
            }
            Self::InvalidLaunchTemplateNameNotFoundException => {
                "InvalidLaunchTemplateName.NotFoundException"
            }
            Self::InvalidNetworkInterfaceIDMalformed => "InvalidNetworkInterfaceID.Malformed",
            Self::InvalidNetworkInterfaceIDNotFound => "InvalidNetworkInterfaceID.NotFound",
            Self::InvalidParameterCombination => "InvalidParameterCombination",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidPermissionDuplicate => "InvalidPermission.Duplicate",
            Self::InvalidPermissionNotFound => "InvalidPermission.NotFound",
            Self::InvalidRegion => "InvalidRegion",
            Self::InvalidRouteTableIDNotFound => "InvalidRouteTableID.NotFound",
            Self::InvalidSecurityGroupRuleIdNotFound => "InvalidSecurityGroupRuleId.NotFound",
            Self::InvalidSnapshotInUse => "InvalidSnapshot.InUse",
            Self::InvalidSnapshotNotFound => "InvalidSnapshot.NotFound",
            Self::InvalidSubnetConflict => "InvalidSubnet.Conflict",
            Self::InvalidSubnetRange => "InvalidSubnet.Range",
            Self::InvalidSubnetIDNotFound => "InvalidSubnetID.NotFound",
            Self::InvalidVolumeNotFound => "InvalidVolume.NotFound",
            Self::InvalidVolumeIDMalformed => "InvalidVolumeID.Malformed",
            Self::InvalidVpcIDNotFound => "InvalidVpcID.NotFound",
            Self::MissingParameter => "MissingParameter",
            Self::OperationNotPermitted => "OperationNotPermitted",
            Self::SsmInvalidParameter => "SsmInvalidParameter",
            Self::VPCIdNotSpecified => "VPCIdNotSpecified",
        }
    }

    fn status(self) -> u16 {
        match self {
            Self::DryRunOperation => 412,
            Self::AuthFailure
            | Self::CannotDelete
            | Self::DependencyViolation
            | Self::IdempotentParameterMismatch
            | Self::IncorrectInstanceState
            | Self::IncorrectState
            | Self::InstanceLimitExceeded
            | Self::InsufficientFreeAddressesInSubnet
            | Self::InvalidAMIAttributeItemValue
            | Self::InvalidAMIIDMalformed
            | Self::InvalidAMIIDNotFound
            | Self::InvalidAMIIDUnavailable
            | Self::InvalidAMINameDuplicate
            | Self::InvalidAMINameMalformed
            | Self::InvalidAssociationIDNotFound
            | Self::InvalidBlockDeviceMapping
            | Self::InvalidGroupDuplicate
            | Self::InvalidGroupNotFound
            | Self::InvalidID
            | Self::InvalidIPAddressInUse
            | Self::InvalidInstanceIDMalformed
            | Self::InvalidInstanceIDNotFound
            | Self::InvalidInstanceType
            | Self::InvalidInternetGatewayIDNotFound
            | Self::InvalidKeyFormat
            | Self::InvalidKeyPairDuplicate
            | Self::InvalidKeyPairNotFound
            | Self::InvalidLaunchTemplateIdMalformed
            | Self::InvalidLaunchTemplateIdNotFound
            | Self::InvalidLaunchTemplateIdVersionNotFound
            | Self::InvalidLaunchTemplateNameAlreadyExistsException
            | Self::InvalidLaunchTemplateNameMalformedException
            | Self::InvalidLaunchTemplateNameNotFoundException
            | Self::InvalidNetworkInterfaceIDMalformed
            | Self::InvalidNetworkInterfaceIDNotFound
            | Self::InvalidParameterCombination
            | Self::InvalidParameterValue
            | Self::InvalidPermissionDuplicate
            | Self::InvalidPermissionNotFound
            | Self::InvalidRegion
            | Self::InvalidRouteTableIDNotFound
            | Self::InvalidSecurityGroupRuleIdNotFound
            | Self::InvalidSnapshotInUse
            | Self::InvalidSnapshotNotFound
            | Self::InvalidSubnetConflict
            | Self::InvalidSubnetRange
            | Self::InvalidSubnetIDNotFound
            | Self::InvalidVolumeNotFound
            | Self::InvalidVolumeIDMalformed
            | Self::InvalidVpcIDNotFound
            | Self::MissingParameter
            | Self::OperationNotPermitted
            | Self::SsmInvalidParameter
            | Self::VPCIdNotSpecified => 400,
        }
    }
}

impl Ec2Error {
    /// The error with this code and `message`.
    pub fn with(self, message: impl Into<String>) -> ApiError {
        ErrorCode::with(self, message)
    }
}

/// `InvalidParameterValue`: EC2's code for a value that fails its checks (the one
/// validation helper of the EC2 handlers).
pub fn invalid(message: impl Into<String>) -> ApiError {
    Ec2Error::InvalidParameterValue.with(message)
}

/// `MissingParameter` naming what the request must contain.
pub fn missing(parameter: &str) -> ApiError {
    Ec2Error::MissingParameter.with(format!(
        "The request must contain the parameter {parameter}"
    ))
}
